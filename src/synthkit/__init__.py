"""synthkit: gated, audited synthetic training data for small text models."""
