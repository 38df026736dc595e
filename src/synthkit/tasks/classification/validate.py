"""Classification's validate step: the format and rule gates of the stage are all it needs."""

from synthkit.tasks.base import Gate


def validate_gates(ctx) -> list[Gate]:
    """No gates beyond the stage's format and rule gates."""
    return []
