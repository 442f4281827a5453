"""Documents: input files → ``Document``s made of ordered ``Section``s.

``files`` finds and reads input files (naming every skipped one and why), ``kinds``
says which format takes a file, ``formats/`` holds one reader per format, ``extract``
runs the binary formats within ``limits``, ``sections`` enforces the rules every
format's sections obey, ``metadata`` the declared fields, ``originals`` serves a
document's file back. Nothing downstream knows which format a document came from.
"""
