"""One module per vector family. Each exposes `NAME`, `detect(doc)`, `replay(doc)` and, for families
the project generates, `FILENAME` and `generate()`; server-bound families set `SERVER_BOUND = True`.
"""
