"""Which task types are installed (the packages under synthkit/tasks/), and their spec and params section models
(synthkit/tasks/<type>/section.py): what config and spec need of a type, below the types themselves."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def task_types() -> list[str]:
    """The task types installed: every package under synthkit/tasks/ with a task.py."""
    root = Path(__file__).parent / "tasks"
    return sorted(m.name for m in pkgutil.iter_modules([str(root)]) if m.ispkg and (root / m.name / "task.py").exists())


def known_type(kind: str) -> str:
    """kind itself when it names an installed task type, else ValueError listing the known ones."""
    if not isinstance(kind, str) or not NAME.match(kind) or kind not in task_types():
        raise ValueError(f"unknown task type {str(kind)[:60]!r}; known: {', '.join(task_types())}")
    return kind


def sections(kind: str) -> tuple[type | None, type | None]:
    """(spec section model, params section model) of a task type; None where the type has none."""
    known_type(kind)
    if not (Path(__file__).parent / "tasks" / kind / "section.py").exists():
        return None, None
    mod = importlib.import_module(f"synthkit.tasks.{kind}.section")
    return getattr(mod, "SPEC_SECTION", None), getattr(mod, "PARAMS_SECTION", None)


def validate_section(model, raw, key: str, owner: str):
    """raw validated by a type's section model; errors keep their location under `key` (e.g. extraction.fields)."""
    from pydantic import ValidationError
    from pydantic_core import ValidationError as CoreValidationError

    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        details = [{"type": e["type"], "loc": (key, *e["loc"]), "input": e["input"], **({"ctx": e["ctx"]} if "ctx" in e else {})}
                   for e in exc.errors()]
        raise CoreValidationError.from_exception_data(owner, details) from None
