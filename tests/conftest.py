"""Shared fixtures: a tiny spec and a builder for Example frames."""

from __future__ import annotations

import os

import pytest

from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.spec import Spec

@pytest.fixture(scope="session", autouse=True)
def shared_dvc_cache(tmp_path_factory, worker_id):
    """One DVC cache for every repository copy of the session (all pytest-xdist workers share it): tests/repo_copy.py."""
    from tests.repo_copy import SHARED_CACHE_ENV

    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base  # xdist workers have their own basetemp under a common one
    os.environ[SHARED_CACHE_ENV] = str(root / "dvc-cache")
    yield


# The modules that run whole pipelines, longest first. `make test` hands whole files to its workers in collection order
# (--dist loadfile --no-loadscope-reorder): started first, they run beside the many short files instead of after them.
# test_e2e builds the root pipeline that diff, rollback and review_loop then copy (tests/repo_copy.py built_copy).
LONG_FIRST = ["test_examples_e2e.py", "test_e2e.py", "llm/test_generate_e2e.py", "test_diff.py", "test_rollback.py",
              "test_review_loop.py", "llm/test_failures_e2e.py", "test_scale.py", "test_engine_ray.py"]


def pytest_collection_modifyitems(config, items):
    """Items of the LONG_FIRST modules first, in that order; the rest keep their collection order."""
    def rank(item) -> int:
        rel = item.nodeid.split("::")[0].removeprefix("tests/")
        return LONG_FIRST.index(rel) if rel in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)


TINY_SPEC = {
    "task": {"name": "tiny", "type": "classification"},
    "labels": [
        {"name": "refund_request", "definition": "Wants money back for a charge already made.", "near_miss": ["cancel_subscription"]},
        {"name": "cancel_subscription", "definition": "Wants to stop the recurring plan going forward."},
        {"name": "login_problem", "definition": "Cannot sign in to the account at all."},
    ],
    "slots": {"plan": ["Basic", "Pro"], "date": ["Monday", "the 3rd"]},
    "channels": {
        "chat": ["{body}", "hi {body}"],
        "email": ["Subject: {short}\n\nHello,\n{body}\nThanks"],
        "ticket_subject": ["{short}"],
    },
    "context": ["I have been a customer for years.", "This is the second time I write."],
    "scenarios": [
        {
            "id": "refund_double", "label": "refund_request", "description": "charged twice",
            "templates": {
                "typical": ["I was charged twice for {plan} on {date}, refund one please", "double charge for {plan}, I want my money back"],
                "short": ["refund double charge"],
                "multilingual": ["Me cobraron dos veces el plan {plan}, quiero un reembolso"],
            },
        },
        {
            "id": "cancel_plan", "label": "cancel_subscription", "description": "stop renewals",
            "hard_negative_of": "refund_request",
            "templates": {
                "typical": ["please cancel my {plan} plan before it renews", "stop my {plan} subscription from renewing"],
                "short": ["cancel plan"],
                "hard_negative": ["cancel {plan} so I'm not charged again, no refund needed"],
            },
        },
        {
            "id": "login_reset", "label": "login_problem", "description": "reset mail missing",
            "templates": {"typical": ["the password reset email never arrives", "I can't sign in since {date}, reset link broken"]},
        },
    ],
}


@pytest.fixture
def spec() -> Spec:
    return Spec.model_validate(TINY_SPEC)


def make_rows(items: list[tuple[str, str]], source: str = "synthetic", split: str = "candidate", family: str = "typical", **kw):
    """Example frame from (text, label) pairs."""
    rows = [
        Example(
            id=content_id(source, text, label), text=text, label=label, source=source, scenario_id=kw.get("scenario_id", f"s_{i}"),
            family=family, channel=kw.get("channel", "chat"), split=split, slices=kw.get("slices", []),
            generator=Generator(backend="template" if source == "synthetic" else "human"),
        )
        for i, (text, label) in enumerate(items)
    ]
    return rows_to_frame(rows, Example)


@pytest.fixture
def rows():
    return make_rows
