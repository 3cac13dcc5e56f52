"""Cross-language test vectors: replay upstream-format vector files against our protocol kit, and
generate the project's own vector files (upstream format plus Wycheproof-style case metadata).

`vectors.replay` drives `starfish-conformance vectors verify`; `vectors.generate` drives
`starfish-conformance vectors generate`; one module per vector family lives in `vectors.families`.
"""
