"""What a stage really used: the synthkit modules it imported and the params keys it read.

Off unless the environment variable SYNTHKIT_TRACE names a folder; then every stage writes <folder>/<stage>.json at
exit. Tests hold the traces against the deps and params dvc.yaml declares, so a stage that reads more than it
declares is caught on the paths the tests run.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

ENV = "SYNTHKIT_TRACE"
_READS: set[str] = set()
_PREFIX: dict[int, str] = {}
_TRACED: dict[type, type] = {}
_STATE = {"stage": None, "task": None}
WHOLE = ("model_dump", "model_dump_json")


def active() -> bool:
    return bool(os.environ.get(ENV))


def start(stage: str) -> None:
    """Record this process as `stage`; the trace is written when the process exits."""
    if active() and _STATE["stage"] is None:
        _STATE["stage"] = stage
        atexit.register(_write)


def _write() -> None:
    folder = Path(os.environ[ENV])
    folder.mkdir(parents=True, exist_ok=True)
    modules = sorted(m for m in sys.modules if m == "synthkit" or m.startswith("synthkit."))
    task = _STATE["task"]
    reads = sorted(r.replace("task.section", f"task.{task}") if task else r for r in _READS)
    (folder / f"{_STATE['stage']}.json").write_text(json.dumps({"modules": modules, "params": reads}, indent=1))


def _traced_class(cls: type) -> type:
    if cls not in _TRACED:
        fields = {name: (f.alias or name) for name, f in cls.model_fields.items()}

        def __getattribute__(self, name):
            if name in fields or name in WHOLE or name == "model_copy":
                prefix = _PREFIX.get(id(self), "")
                if name in fields:
                    value = object.__getattribute__(self, name)
                    if id(value) not in _PREFIX:  # a leaf: a section is recorded by what is read of it
                        _READS.add(prefix + fields[name])
                    return value
                elif name in WHOLE:
                    _READS.add(prefix.rstrip(".") or "*")
                else:
                    return _copier(self, prefix)
            return object.__getattribute__(self, name)

        _TRACED[cls] = type(cls.__name__, (cls,), {"__module__": cls.__module__, "__getattribute__": __getattribute__})
    return _TRACED[cls]


def _copier(model, prefix: str):
    def model_copy(*args, **kwargs):
        _READS.add(prefix.rstrip(".") or "*")  # a copy carries every value on
        copy = type(model).__mro__[1].model_copy(model, *args, **kwargs)
        _PREFIX[id(copy)] = prefix
        return copy

    return model_copy


def params(model, prefix: str = ""):
    """model (the loaded params.yaml) recording every field read, when tracing; else model itself."""
    if not active():
        return model
    from pydantic import BaseModel

    if not prefix:
        _STATE["task"] = model.task.type
    for name, f in type(model).model_fields.items():
        value = object.__getattribute__(model, name)
        if isinstance(value, BaseModel):
            params(value, f"{prefix}{f.alias or name}.")
    model.__class__ = _traced_class(type(model))
    _PREFIX[id(model)] = prefix
    return model
