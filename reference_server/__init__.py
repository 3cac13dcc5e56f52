"""The Starfish v3 reference server: the harness's ground truth and default target (see README.md here)."""
