"""Bring your own data: infer the column mapping of a labeled file, derive a spec from its labels, scaffold params."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from synthkit.config import Columns, Params
from synthkit.errors import InputError
from synthkit.io import _iter_records, read_records, read_yaml
from synthkit.prepare import first_clash, label_clashes
from synthkit.schemas import RawLabeled
from synthkit.spec import Spec

TEXT_NAMES = ("text", "utterance", "sentence", "query", "message", "content", "body", "question", "input")
LABEL_NAMES = ("label", "intent", "category", "class", "target", "topic", "labels")
OPTIONAL = {"group": ("group", "scenario", "scenario_id", "paraphrase_group"), "slices": ("slices", "slice", "tags"), "channel": ("channel",)}
LABEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def header(path: str | Path) -> list[str]:
    """The column names of a CSV/JSONL/Parquet file (the first record's keys)."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    for _, rec in _iter_records(path, None):
        return list(rec)
    raise InputError(str(path), "no rows to infer columns from")


def infer_columns(path: str | Path, text: str | None = None, label: str | None = None) -> Columns:
    """The column mapping of a labeled file: given names win, else well-known names (text/utterance/..., label/intent/...)."""
    cols = header(path)
    lower = {c.lower(): c for c in cols}

    def pick(given: str | None, names: tuple[str, ...], field: str) -> str | None:
        if given is not None:
            if given not in cols:
                raise InputError(str(path), f"column {given!r} not found (columns: {', '.join(cols)})", field=given)
            return given
        return next((lower[n] for n in names if n in lower), None)

    found_text = pick(text, TEXT_NAMES, "text")
    found_label = pick(label, LABEL_NAMES, "label")
    for name, value, option in (("text", found_text, "--text-column"), ("label", found_label, "--label-column")):
        if value is None:
            raise InputError(str(path), f"cannot tell which column holds the {name} (columns: {', '.join(cols)}); pass {option}")
    optional = {k: next((lower[n] for n in names if n in lower), k) for k, names in OPTIONAL.items()}
    return Columns(text=found_text, label=found_label, **optional)


def labels_of(path: str | Path, columns: Columns) -> list[str]:
    """Sorted distinct labels of a labeled file; a column the mapping names but the file lacks is an InputError."""
    return sorted({rec.label for _, rec in read_records(path, RawLabeled, columns.model_dump())})


def label_conflicts(path: str | Path, columns: Columns) -> tuple[int, str | None]:
    """Texts of a labeled file that carry more than one label once normalised as prepare normalises them, and the
    first such pair of rows described in words (None when there is none)."""
    clashes = label_clashes(read_records(path, RawLabeled, columns.model_dump()))
    if not clashes:
        return 0, None
    rowno, label, row0, label0 = first_clash(clashes)
    return len(clashes), f"row {rowno} is row {row0}'s text with label {label!r} instead of {label0!r}"


def load_definitions(path: str | Path | None) -> dict[str, str]:
    """Optional label definitions: a YAML mapping label -> definition."""
    if path is None:
        return {}
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise InputError(str(path), "expected a mapping of label name -> definition text")
    return raw


def derive_spec(labels: list[str], definitions: dict[str, str] | None = None, name: str = "my_task", source: str = "the seeds") -> dict[str, Any]:
    """A minimal valid spec from the seeds' labels: no scenarios (the template backend renders nothing), so
    the template-free backends (pseudo_label, seed_variation) supply the candidates offline."""
    definitions = definitions or {}
    bad = [lab for lab in labels if not LABEL_NAME.match(lab)]
    if bad:
        raise InputError(source, f"label {bad[0]!r} is not a valid label name (lower-case letters, digits and _, starting with a letter); rename it in the data", field="label")
    unknown = sorted(set(definitions) - set(labels))
    if unknown:
        raise InputError(source, f"definition for unknown label {unknown[0]!r}", field="label")
    spec = {
        "task": {"name": name, "type": "classification", "description": f"Classify each text into one of {len(labels)} labels (derived from {source})."},
        "labels": [
            {"name": lab, "definition": definitions.get(lab) or f"Texts labelled {lab} in the seed data."}
            for lab in labels
        ],
    }
    Spec.model_validate(spec)  # the derived spec must load like a hand-written one
    return spec


def _flow(value: Any) -> str:
    """A value as one line of YAML (flow style)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):(.*)$")


def set_values(text: str, values: dict[str, Any], source: str = "params.yaml") -> str:
    """params.yaml text with the values of dotted keys replaced in place, every comment and every other line kept."""
    lines = text.splitlines()
    stack: list[tuple[int, str]] = []
    todo = dict(values)
    for i, line in enumerate(lines):
        m = _KEY_LINE.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        stack.append((indent, key))
        if path not in todo:
            continue
        comment_at = rest.find(" #")
        new = f"{m.group(1)}{key}: {_flow(todo.pop(path))}"
        if comment_at >= 0:
            pad = max(len(m.group(1)) + len(key) + 2 + comment_at - len(new), 1)  # the comment stays in its column
            new += " " * pad + rest[comment_at:].lstrip()
        lines[i] = new
    if todo:
        raise InputError(source, f"no line for {next(iter(todo))} to set", field=next(iter(todo)))
    return "\n".join(lines) + "\n"


def init_values(columns: Columns, seeds: str, eval_: str | None, unlabeled: str | None, conflicts: bool = False) -> dict[str, Any]:
    """The params `synthkit init` sets for a new dataset (paths relative to the project folder): the input files, the
    column mapping and the template-free backends, at the settings of the README's public-data benchmark; with
    conflicts (a text of the seeds or the eval file under two labels), prepare.conflicts drop."""
    values: dict[str, Any] = {f"prepare.columns.{k}": v for k, v in columns.model_dump().items() if k != "target"}
    if conflicts:
        values["prepare.conflicts"] = "drop"
    pool = unlabeled or seeds  # without a pool: the seeds stand in for the production sample
    values.update({"prepare.seeds": seeds, "prepare.production": pool, "prepare.unlabeled": pool})
    if eval_ is not None:
        values["prepare.eval"] = eval_
    values["generate.backends"] = ["pseudo_label", "seed_variation"] if unlabeled else ["seed_variation"]
    values["generate.quotas"] = {"seed_variation": 1000}
    return values


def init_params_text(base_text: str, columns: Columns, seeds: str, eval_: str | None, unlabeled: str | None, source: str = "params.yaml",
                     conflicts: bool = False) -> str:
    """params.yaml for a new project: the repository's params.yaml text (comments kept) with init_values set; validated."""
    import yaml

    text = set_values(base_text, init_values(columns, seeds, eval_, unlabeled, conflicts), source)
    header = "# Written by `synthkit init` from the repository's params.yaml: the input files, the columns and the backends are\n" \
             "# set for your data; every other knob is the documented default.\n"
    try:
        Params.model_validate(yaml.safe_load(text))
    except Exception as exc:  # the base file itself is broken
        raise InputError(source, f"the written params do not validate: {str(exc).splitlines()[0]}") from None
    return header + text


def scaffold_params(base: dict | None, columns: Columns, seeds: str, eval_: str | None, unlabeled: str | None) -> dict:
    """params for a new dataset as a mapping (the base params, or the defaults, with init_values set); validated."""
    params = dict(base) if base else Params().model_dump(by_alias=True, mode="json")
    for key, value in init_values(columns, seeds, eval_, unlabeled).items():
        node = params
        *parents, leaf = key.split(".")
        for part in parents:
            node[part] = dict(node.get(part) or {})
            node = node[part]
        node[leaf] = value
    Params.model_validate(params)
    return params
