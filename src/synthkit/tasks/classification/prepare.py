"""Classification's prepare step: real rows carry a label and no target."""


def target_check(spec) -> None:
    """No target to check."""
    return None
