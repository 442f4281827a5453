"""sakuin's engine: files → documents/sections → analysis → index → query → hits → snippets."""
