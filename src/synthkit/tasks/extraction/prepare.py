"""Extraction's prepare step: a real row's target is JSON that fits the spec's fields, canonicalised."""


def target_check(spec):
    from synthkit.tasks.extraction.target import check_target

    return check_target(spec.section)
