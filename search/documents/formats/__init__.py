"""One reader per input format: text or bytes → a title and (heading, text) pairs.

Each module knows one format and nothing of the index; ``documents.files`` and
``documents.extract`` choose the reader, ``documents.sections`` cleans what it returns.
"""
