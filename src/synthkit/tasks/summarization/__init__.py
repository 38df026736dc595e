"""Grounded summarization and QA over source documents."""
