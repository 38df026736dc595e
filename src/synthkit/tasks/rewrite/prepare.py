"""Rewrite's prepare step: a real row's target is present and in the spec's target form."""


def target_check(spec):
    from synthkit.tasks.rewrite.gate import check_target

    return check_target(spec.section)
