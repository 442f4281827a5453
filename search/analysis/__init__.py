"""Analysis: Japanese text → the terms every field indexes and every query looks up.

``sudachi`` wraps SudachiPy (one tokenizer per process and thread, mode C, the full
field set, input cut under its byte limit); ``normalize`` is the one place that decides
which spellings are the same; ``chain`` states the term of each field as a Whoosh
analyzer chain (the specification both backends follow); ``terms`` computes a
section's terms for every field in bulk, which is what the writers actually call.

The index side and the query side use these same functions, so a query's terms can
only differ from a section's when the text differs.
"""
