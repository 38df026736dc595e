"""The task spec: labels with definitions and rules, scenarios with templates, channels and slot values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from synthkit.errors import InputError, clip, validation_message
from synthkit.io import read_yaml
from synthkit.schemas import CHANNELS, FAMILIES

SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Label(_Strict):
    """A label the model must predict, with what it means and the labels it is easily confused with."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    definition: str = Field(min_length=10)
    rules: list[str] = Field(default_factory=list)
    near_miss: list[str] = Field(default_factory=list)


class Scenario(_Strict):
    """A situation a customer is in; its label follows from the label rules; utterance templates per family."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str
    hard_negative_of: str | None = None
    slots: dict[str, list[str]] = Field(default_factory=dict)
    templates: dict[str, list[str]]

    @model_validator(mode="after")
    def _families_known(self) -> "Scenario":
        unknown = set(self.templates) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown template families {clip(sorted(unknown))}; known: {list(FAMILIES)}")
        if "typical" not in self.templates or not self.templates["typical"]:
            raise ValueError("every scenario needs at least one 'typical' template")
        return self


class Constraints(_Strict):
    """Rules every example must satisfy (checked by the rule gate)."""

    min_chars: int = 2
    max_chars: int = 2000
    forbid_patterns: list[str] = Field(default_factory=lambda: [r"\{[a-z_]+\}", r"\[(?:NAME|EMAIL|PHONE)\]"])


class Task(_Strict):
    name: str
    type: str = "classification"  # a package under synthkit/tasks/ (classification, extraction, rewrite, summarization)
    description: str = ""


class Spec(_Strict):
    """A whole task spec, cross-checked: scenario labels exist, every template slot has values."""

    task: Task
    labels: list[Label] = Field(min_length=2)
    slots: dict[str, list[str]] = Field(default_factory=dict)
    channels: dict[str, list[str]] = Field(default_factory=dict)
    context: list[str] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    scenarios: list[Scenario] = Field(default_factory=list)
    section: Any = None  # the task type's own section (`extraction:`, `rewrite:`, ...), validated by its model

    @model_validator(mode="before")
    @classmethod
    def _type_section(cls, raw: Any) -> Any:
        """Move the task type's section (the top-level key named like the type) into `section`, validated."""
        from synthkit.task_types import sections, validate_section

        if not isinstance(raw, dict):
            return raw
        task = raw.get("task")
        kind = task.get("type", "classification") if isinstance(task, dict) else getattr(task, "type", "classification")
        if not isinstance(kind, str):
            return raw
        model, _ = sections(kind)
        raw = dict(raw)
        given = raw.pop(kind, raw.pop("section", None))
        if model is not None:
            if given is None:
                raise ValueError(f"task type {kind!r} needs a top-level {kind!r} section")
            raw["section"] = given if isinstance(given, model) else validate_section(model, given, kind, cls.__name__)
        elif given is not None:
            raise ValueError(f"task type {kind!r} has no section {kind!r}")
        return raw

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        out = handler(self)
        section = out.pop("section", None)
        if section is not None:
            out[self.task.type] = section
        return out

    @property
    def label_names(self) -> list[str]:
        return [lab.name for lab in self.labels]

    @model_validator(mode="after")
    def _cross_check(self) -> "Spec":
        names = set(self.label_names)
        first: dict[str, int] = {}
        for i, name in enumerate(self.label_names):
            if first.setdefault(name, i) != i:
                raise ValueError(f"label {clip(name)} is defined twice (labels.{first[name]} and labels.{i}); label names must be unique")
        for lab in self.labels:
            for other in lab.near_miss:
                if other not in names:
                    raise ValueError(f"label {clip(lab.name)}: near_miss {clip(other)} is not a label")
        unknown_channels = set(self.channels) - set(CHANNELS)
        if unknown_channels:
            raise ValueError(f"unknown channels {clip(sorted(unknown_channels))}; known: {list(CHANNELS)}")
        for name, wrappers in self.channels.items():
            for w in wrappers:
                if "{body}" not in w and "{short}" not in w:
                    raise ValueError(f"channel {name!r}: wrapper {clip(w)} needs {{body}} or {{short}}")
        seen = set()
        for sc in self.scenarios:
            if sc.id in seen:
                raise ValueError(f"duplicate scenario id {clip(sc.id)}")
            seen.add(sc.id)
            for lab in (sc.label, sc.hard_negative_of):
                if lab is not None and lab not in names:
                    raise ValueError(f"scenario {clip(sc.id)}: label {clip(lab)} is not in labels")
            for family, templates in sc.templates.items():
                for t in templates:
                    for slot in SLOT.findall(t):
                        if slot not in sc.slots and slot not in self.slots:
                            raise ValueError(f"scenario {clip(sc.id)} ({family}): slot {{{slot}}} has no values")
        return self


def load_spec(path: str | Path) -> Spec:
    """Load and cross-check a spec file; errors name the file and the offending field."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(str(path), "expected a mapping at the top level (task, labels, scenarios, ...)")
    try:
        return Spec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc, msg = validation_message(err)
        item = _item_name(raw, err["loc"])
        raise InputError(str(path), f"{msg} (in {item})" if item else msg, field=loc) from None


def _item_name(raw: dict, loc: tuple) -> str | None:
    """'label 'x'' or 'scenario 'y'' for an error inside a list item that has a name or id."""
    if len(loc) < 2 or loc[0] not in ("labels", "scenarios") or not isinstance(loc[1], int):
        return None
    items = raw.get(loc[0])
    item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    key = "name" if loc[0] == "labels" else "id"
    if not isinstance(item, dict) or not isinstance(item.get(key), str) or loc[2:3] == (key,):
        return None
    return f"{loc[0][:-1]} {clip(item[key])}"
