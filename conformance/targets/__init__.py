"""Targets: how the harness reaches a server under test (a URL, a process, a container, an official release)."""
