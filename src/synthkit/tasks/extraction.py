"""Extraction to a schema: targets are canonical JSON of the extracted fields.

The offline generator renders slot values into text, so targets are right by construction (hard negatives
add a second amount or a date that is not the transaction date); the schema gate validates the JSON against
the spec's fields; the evidence gate checks every value appears in the text or normalises from it; the
student is a CRF over tokens (sklearn-crfsuite) scored with field-level precision, recall and F1.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import AfterValidator, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError, create_model

from synthkit.gates.base import KEEP, Verdict
from synthkit.progress import progress
from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.tasks import slice_groups
from synthkit.tasks.facts import dates, normalize_space, number_value, numbers
from synthkit.tasks.sections import ExtractionSpec

TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+(?:['\u2019][A-Za-z]+)?|[^\w\s]")
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


# ---------------------------------------------------------------- schema and canonical form

def canonical(obj: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, no null values, compact separators, non-ASCII kept."""
    return json.dumps({k: v for k, v in obj.items() if v is not None}, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _iso(v: str) -> str:
    dt.date.fromisoformat(v)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise ValueError("date must be YYYY-MM-DD")
    return v


def target_model(spec: ExtractionSpec):
    """A pydantic model of the target JSON built from the spec's fields (unknown keys forbidden)."""
    fields: dict[str, Any] = {}
    for name, f in spec.fields.items():
        if f.type == "number":
            typ: Any = StrictInt | StrictFloat
        elif f.type == "date":
            typ = Annotated[StrictStr, AfterValidator(_iso)]
        elif f.enum:
            typ = Literal[tuple(f.enum)]  # type: ignore[valid-type]
        else:
            typ = Annotated[StrictStr, AfterValidator(lambda v: v if v.strip() else (_ for _ in ()).throw(ValueError("empty string")))]
        fields[name] = (typ, ...) if name in spec.required else (typ | None, None)
    return create_model("ExtractionTarget", __config__=ConfigDict(extra="forbid"), **fields)


def parse_target(target: str | None, spec: ExtractionSpec) -> tuple[dict | None, str | None, str]:
    """(values, None, '') for a valid target, else (None, reason suffix, detail)."""
    if target is None or not target.strip():
        return None, "missing_target", ""
    try:
        obj = json.loads(target)
    except json.JSONDecodeError as exc:
        return None, "invalid_json", exc.msg
    if not isinstance(obj, dict):
        return None, "not_object", type(obj).__name__
    try:
        target_model(spec).model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        kind = {"extra_forbidden": "unknown_field", "missing": "missing_field", "literal_error": "not_in_enum"}.get(err["type"], "wrong_type")
        return None, kind, f"field={field}"
    return {k: v for k, v in obj.items() if v is not None}, None, ""


def check_target(spec: ExtractionSpec):
    """For prepare: the canonical target of a real row, or ValueError saying what is wrong."""
    def check(target: str | None) -> str:
        values, reason, detail = parse_target(target, spec)
        if values is None:
            raise ValueError(f"target: {reason.replace('_', ' ')} {detail}".strip())
        return canonical(values)
    return check


def gate_schema(targets: list[str | None], spec: ExtractionSpec) -> list[Verdict]:
    """schema gate: the target is JSON of the spec's fields with the right types, in canonical form."""
    out = []
    for t in targets:
        values, reason, detail = parse_target(t, spec)
        if values is None:
            out.append(Verdict(f"schema_{reason}", detail))
        elif canonical(values) != t:
            out.append(Verdict("schema_not_canonical", "sorted keys, no nulls"))
        else:
            out.append(KEEP)
    return out


# ---------------------------------------------------------------- evidence: values found in the text

def _surface_pattern(surface: str) -> re.Pattern[str]:
    s = re.escape(surface)
    return re.compile(rf"(?<![A-Za-z]){s}(?![A-Za-z])", re.I) if surface[:1].isalpha() else re.compile(s)


def find_value(text: str, field: str, value: Any, spec: ExtractionSpec) -> tuple[int, int] | None:
    """The character span of the text the value is written as (or normalises from), or None."""
    f = spec.fields[field]
    if field == spec.currency_field and spec.currencies:
        hits = [m.span() for s in spec.currencies.get(str(value), [str(value)]) if (m := _surface_pattern(s).search(text))]
        return min(hits) if hits else None
    if f.type == "number":
        want = Decimal(str(value))
        for m in re.finditer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text):
            if number_value(m.group()) == want:
                return m.span()
        return None
    if f.type == "date":
        want_d = dt.date.fromisoformat(str(value))
        return next(((s, e) for d, s, e in dates(text, spec.date_order) if d == want_d), None)
    m = re.search(re.escape(normalize_space(str(value))).replace(r"\ ", r"\s+"), text, re.I)
    return m.span() if m else None


def gate_evidence(texts: list[str], targets: list[str | None], spec: ExtractionSpec) -> list[Verdict]:
    """evidence gate: every extracted value appears in the text, or normalises from it (1,234.50 -> 1234.5, 3 March 2024 -> 2024-03-03)."""
    out = []
    for text, t in zip(texts, targets):
        values, _, _ = parse_target(t, spec)
        missing = [k for k, v in sorted((values or {}).items()) if find_value(text, k, v, spec) is None]
        out.append(Verdict("evidence_value_not_in_text", f"field={missing[0]}") if missing else KEEP)
    return out


# ---------------------------------------------------------------- offline generator

def render_amount(value: Decimal, currency: str | None, spec: ExtractionSpec, rng: random.Random) -> str:
    """A money amount as people write it: 1,234.50 / 1234.50 / 45, with a symbol, code or word."""
    whole = value == value.to_integral_value()
    forms = [f"{value:,.2f}", f"{value:.2f}"] + ([f"{int(value):,}", f"{int(value)}"] if whole else [])
    num = rng.choice(forms)
    if currency is None:
        return num
    surfaces = spec.currencies.get(currency, [currency])
    s = rng.choice(surfaces)
    if not s[:1].isalpha():
        return f"{s}{num}"
    return f"{s} {num}" if s.isupper() and rng.random() < 0.5 else f"{num} {s}"


def render_date(d: dt.date, spec: ExtractionSpec, rng: random.Random) -> str:
    """A date as people write it: 3 March 2024, 3rd of March 2024, March 3, 2024, 3 Mar 2024, 2024-03-03, 03/03/2024."""
    month = _MONTH_NAMES[d.month - 1]
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    slash = f"{d.day:02d}/{d.month:02d}/{d.year}" if spec.date_order == "dmy" else f"{d.month:02d}/{d.day:02d}/{d.year}"
    return rng.choice([f"{d.day} {month} {d.year}", f"{d.day}{suffix} of {month} {d.year}", f"{month} {d.day}, {d.year}",
                       f"{d.day} {month[:3]} {d.year}", d.isoformat(), slash])


SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def render(template: str, slots: dict[str, list[str]], spec: ExtractionSpec, rng: random.Random) -> tuple[str, dict]:
    """Fill a template; field slots get a canonical value (the target) rendered in a surface form."""
    names = SLOT.findall(template)
    currency = rng.choice(slots[spec.currency_field]) if spec.currency_field and spec.currency_field in slots else None
    values: dict[str, Any] = {}
    chosen: dict[str, str] = {}
    used: dict[str | None, set[str]] = {}  # raw values already rendered per field: a distractor never repeats the value
    for name in names:
        if name in chosen:
            continue
        field = name if name in spec.fields else spec.distractors.get(name)
        pool = slots[name] if name in slots else slots[field]
        options = [v for v in pool if v not in used.get(field, set())] or pool
        raw = rng.choice(options)
        used.setdefault(field, set()).add(raw)
        if field is not None and spec.fields[field].type == "number":
            surface = render_amount(Decimal(raw), currency, spec, rng)
            raw_value: Any = float(Decimal(raw))
        elif field is not None and spec.fields[field].type == "date":
            surface = render_date(dt.date.fromisoformat(raw), spec, rng)
            raw_value = raw
        else:
            surface, raw_value = raw, raw
        chosen[name] = raw
        if name in spec.fields:
            values[name] = raw_value
        template = template.replace("{" + name + "}", surface, 1)
        while "{" + name + "}" in template:  # a slot written twice says the same value twice
            template = template.replace("{" + name + "}", surface, 1)
    if currency is not None and any(spec.fields[f].type == "number" for f in values):
        values[spec.currency_field] = currency
    return re.sub(r"[ \t]+", " ", template).strip(), values


def generate(spec, params, seed: int) -> pl.DataFrame:
    """Scenario templates rendered per_scenario times with slot values; target = canonical JSON of the values used."""
    from synthkit.generators.template import FAMILY_WEIGHTS, template_hash

    ex_spec: ExtractionSpec = spec.extraction
    rows: dict[str, Example] = {}
    channels = [c for c in params.channels if c in spec.channels] or ["chat"]
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:{sc.id}")
        slots = {**spec.slots, **sc.slots}
        families = [f for f in FAMILY_WEIGHTS if sc.templates.get(f)]
        for _ in range(params.per_scenario):
            family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
            template = rng.choice(sc.templates[family])
            channel = rng.choice(channels)
            wrapper = rng.choice([w for w in spec.channels.get(channel, ["{body}"]) if "{body}" in w] or ["{body}"])
            body, values = render(template, slots, ex_spec, rng)
            text = wrapper.replace("{body}", body).strip()
            target = canonical(values)
            ex_id = content_id("synthetic", sc.label, sc.id, family, channel, text, target)
            rows.setdefault(ex_id, Example(
                id=ex_id, text=text, label=sc.label, target=target, source="synthetic", scenario_id=sc.id, family=family,
                channel=channel, split="candidate",
                generator=Generator(backend="template", model="extraction_templates", prompt_hash=template_hash(template, wrapper)),
            ))
    return rows_to_frame(rows.values(), Example)


# ---------------------------------------------------------------- student: CRF over tokens

def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _shape(w: str) -> str:
    s = "".join("9" if c.isdigit() else "X" if c.isupper() else "x" if c.islower() else c for c in w)
    return re.sub(r"(.)\1+", r"\1\1", s)


def token_features(toks: list[tuple[str, int, int]]) -> list[dict]:
    feats = []
    words = [t[0] for t in toks]
    for i, w in enumerate(words):
        f = {"bias": 1.0, "w": w.lower(), "shape": _shape(w), "pre3": w[:3].lower(), "suf3": w[-3:].lower(),
             "digit": w[:1].isdigit(), "title": w.istitle(), "upper": w.isupper(), "month": w[:3].lower() in
             {m[:3].lower() for m in _MONTH_NAMES}, "len": min(len(w), 8)}
        for off in (-3, -2, -1, 1, 2, 3):
            j = i + off
            f[f"{off}:w"] = words[j].lower() if 0 <= j < len(words) else ("<s>" if j < 0 else "</s>")
            if 0 <= j < len(words):
                f[f"{off}:shape"] = _shape(words[j])
        feats.append(f)
    return feats


def bio_tags(text: str, values: dict, spec: ExtractionSpec) -> list[str]:
    toks = tokens(text)
    tags = ["O"] * len(toks)
    for field, value in sorted(values.items()):
        span = find_value(text, field, value, spec)
        if span is None:
            continue
        inside = [i for i, (_, s, e) in enumerate(toks) if s < span[1] and e > span[0] and tags[i] == "O"]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + field
    return tags


def decode(text: str, tags: list[str], spec: ExtractionSpec) -> dict:
    """Predicted tags -> field values, normalised like the targets (first span per field)."""
    toks = tokens(text)
    spans: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(tags):
        if tags[i] != "O":
            field = tags[i][2:]
            j = i + 1
            while j < len(tags) and tags[j] == f"I-{field}":
                j += 1
            spans.setdefault(field, (toks[i][1], toks[j - 1][2]))
            i = j
        else:
            i += 1
    out: dict[str, Any] = {}
    for field, (s, e) in spans.items():
        surface = text[s:e]
        f = spec.fields.get(field)
        if f is None:
            continue
        if field == spec.currency_field and spec.currencies:
            code = next((c for c, ss in spec.currencies.items() if any(x.lower() == surface.lower() for x in ss + [c])), None)
            if code:
                out[field] = code
        elif f.type == "number":
            vals = numbers(surface)
            if vals:
                out[field] = float(vals[0])
        elif f.type == "date":
            ds = dates(surface, spec.date_order)
            if ds:
                out[field] = ds[0][0].isoformat()
        else:
            out[field] = surface
    return out


def train_extractor(texts: list[str], targets: list[str], spec: ExtractionSpec, params):
    """A CRF tagger (sklearn-crfsuite, L-BFGS) trained on token features and BIO tags derived from the targets."""
    import sklearn_crfsuite

    X, y = [], []
    for text, t in zip(texts, targets):
        values, _, _ = parse_target(t, spec)
        X.append(token_features(tokens(text)))
        y.append(bio_tags(text, values or {}, spec))
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=params.c1, c2=params.c2, max_iterations=params.max_iterations, all_possible_transitions=True)
    crf.fit(X, y)
    return crf


def predict(crf, texts: list[str], spec: ExtractionSpec) -> list[dict]:
    tags = crf.predict([token_features(tokens(t)) for t in texts])
    return [decode(t, tg, spec) for t, tg in zip(texts, tags)]


def same_value(a: Any, b: Any, ftype: str) -> bool:
    if ftype == "number":
        return Decimal(str(a)) == Decimal(str(b))
    return normalize_space(str(a)) == normalize_space(str(b))


def field_scores(gold: list[dict], pred: list[dict], spec: ExtractionSpec) -> dict:
    """Field-level micro precision / recall / F1 (a value counts only when it equals the gold value), overall and per field."""
    counts = {f: [0, 0, 0] for f in spec.fields}  # tp, fp, fn
    for g, p in zip(gold, pred):
        for f, fs in spec.fields.items():
            gv, pv = g.get(f), p.get(f)
            ok = gv is not None and pv is not None and same_value(gv, pv, fs.type)
            counts[f][0] += ok
            counts[f][1] += pv is not None and not ok
            counts[f][2] += gv is not None and not ok

    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"precision": round(p, 6), "recall": round(r, 6), "f1": round(2 * p * r / (p + r), 6) if p + r else 0.0}

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"n": len(gold), **prf(*total), "per_field": {f: prf(*c) for f, c in sorted(counts.items())}}


def evaluate(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, spec, params, min_slice_size: int) -> tuple[dict, dict]:
    """Field-level P/R/F1 of the CRF trained on real-only and on the mix, overall and per eval slice."""
    ex_spec: ExtractionSpec = spec.extraction
    gold = [parse_target(t, ex_spec)[0] or {} for t in eval_["target"].to_list()]
    texts = eval_["text"].to_list()
    preds = {}
    for name, frame in progress((("real_only", real), ("mix", train)), "students", unit="models"):
        crf = train_extractor(frame["text"].to_list(), frame["target"].to_list(), ex_spec, params.task.extraction)
        preds[name] = predict(crf, texts, ex_spec)
    tags = eval_["slices"].to_list()
    groups = slice_groups(tags, min_slice_size)
    result = {name: {g: field_scores([gold[i] for i in idx], [p[i] for i in idx], ex_spec) for g, idx in groups.items()} for name, p in preds.items()}
    metrics = {
        "task": "extraction", "student": "crf", "eval_rows": eval_.height,
        "train_rows": {"real_only": real.height, "mix": train.height, "synthetic_in_mix": int((train["source"] == "synthetic").sum())},
        "real_only": {k: v for k, v in result["real_only"]["all"].items() if k != "per_field"},
        "mix": {k: v for k, v in result["mix"]["all"].items() if k != "per_field"},
        "uplift": {k: round(result["mix"]["all"][k] - result["real_only"]["all"][k], 6) for k in ("precision", "recall", "f1")},
        "per_field": {name: result[name]["all"]["per_field"] for name in preds},
        "slices": {g: {"n": len(groups[g]), "real_only_f1": result["real_only"][g]["f1"], "mix_f1": result["mix"][g]["f1"],
                       "uplift_f1": round(result["mix"][g]["f1"] - result["real_only"][g]["f1"], 6)} for g in groups if g != "all"},
    }
    return metrics, {"slices": result}
