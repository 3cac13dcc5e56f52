"""vectors package."""
