"""reference_server package."""
