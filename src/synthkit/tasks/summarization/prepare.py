"""Summarization's prepare step: a real row's target (a summary or an answer) is present."""


def target_check(spec):
    from synthkit.tasks.summarization.gate import check_target

    return check_target(spec.section)
