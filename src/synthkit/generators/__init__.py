"""Candidate generators: each returns a frame of Example rows with full provenance."""
