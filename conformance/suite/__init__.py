"""The conformance checks, one module per area. Run them with `starfish-conformance run` or
`pytest --pyargs conformance.suite --starfish-target=...`."""
