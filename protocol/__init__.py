"""The Starfish v3 protocol kit: our own, readable implementation of every byte the protocol signs or hashes.

Each module is one concept. Nothing here talks to the network; the reference server, the vector
replayer and the conformance suite all build on these functions, so a rule is written once.
"""
