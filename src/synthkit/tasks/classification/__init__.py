"""Intent classification: one label per text, from the spec's labels."""
