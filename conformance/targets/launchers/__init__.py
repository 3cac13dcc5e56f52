"""Tiny launcher programs for the official servers.

They run inside each official server's own environment (not ours), so they import only that
server's packages and the standard library. Each honours the same small target contract:
`PORT`, `STARFISH_CONFIG` (a collection config path), `STARFISH_PREFIX` (default `/v1`), and
answers `GET <prefix>/health` once ready.
"""
