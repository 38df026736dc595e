"""Rewriting and normalisation: the target is the text rewritten in the spec's target form."""
