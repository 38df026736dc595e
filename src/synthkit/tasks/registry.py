"""The one entry point to task types: the TaskType the spec names (synthkit/tasks/<type>/task.py) and its steps."""

from __future__ import annotations

import importlib

from synthkit.errors import InputError
from synthkit.task_types import known_type


def load_task(spec, params=None):
    """The TaskType the spec names; params.yaml's task.type must agree with it."""
    kind = spec.task.type
    if params is not None and params.task.type != kind:
        raise InputError("params.yaml", f"task.type is {params.task.type!r} but the spec's task.type is {kind!r}", field="task.type")
    try:
        known_type(kind)
    except ValueError as exc:
        raise InputError("spec", str(exc), field="task.type") from None
    return importlib.import_module(f"synthkit.tasks.{kind}.task").TASK


def load_step(spec, params, step: str):
    """The module of one step of the spec's task type (synthkit/tasks/<type>/<step>.py; see TaskType).

    Call it with the step as a literal: synthkit.dag reads it to give the stage the step's code as its deps.
    """
    from synthkit.tasks.base import STEPS

    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
    task = load_task(spec, params)
    if step == "generate" and params is not None:
        unsupported = [b for b in params.generate.backends if b not in task.backends]
        if unsupported:
            raise InputError("params.yaml", f"task.type {task.name} generates with the backends {', '.join(task.backends)} only, not {unsupported[0]}",
                             field="generate.backends")
    return importlib.import_module(f"synthkit.tasks.{task.name}.{step}")
