"""What a person reads: one JSON-lines results stream per run, and the views rendered from it."""
