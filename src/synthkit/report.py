"""The run report: one self-contained HTML page (data, charts and chart scripts inlined) from a run's reports/ folder."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from synthkit.errors import InputError
from synthkit.uplift import negative_uplift

PIPELINE = ("generate", "validate", "filter", "dedupe", "mix")
MODELS = ("lead_baseline", "copy_baseline", "real_only", "mix")  # the order models appear in tables and charts
MODEL_COLORS = {"lead_baseline": "#9aa5b1", "copy_baseline": "#9aa5b1", "real_only": "#5b7fa6", "mix": "#e07b39"}
OUTCOME_COLORS = {"kept": "#4c9a6a", "rejected": "#c8553d"}
WIDTH = 560
TOP_CONFUSIONS = 15
TOP_LEAKS = 20
JSON_FILES = ("metrics", "slices", "funnel", "drift", "diversity", "cost", "manifest", "leakage")
PLOT_FILES = ("slices", "funnel", "mix", "confusion", "uplift_by_ratio")
WRITTEN_BY = {  # report input -> the stage that writes it
    "metrics.json": "the evaluate stage", "slices.json": "the evaluate stage", "plots/slices.csv": "the evaluate stage",
    "plots/confusion.csv": "the evaluate stage, for classification only", "plots/uplift_by_ratio.csv": "the evaluate stage, for classification only",
    "funnel.json": "the manifest stage", "plots/funnel.csv": "the manifest stage", "manifest.json": "the manifest stage",
    "cost.json": "the manifest stage, when given --cost", "plots/mix.csv": "the mix stage", "drift.json": "the monitor stage",
    "diversity.json": "the monitor stage", "leakage.json": "the dedupe stage", "review/sample.csv": "the filter stage",
}


# ------------------------------------------------------------------------------------------------ inputs


@dataclass
class Inputs:
    """The artifacts of one run: parsed JSON and CSV files by name, None where a file is absent."""

    root: Path
    json: dict[str, dict | None]
    counts: dict[str, dict]
    plots: dict[str, pl.DataFrame | None]
    review: pl.DataFrame | None


def _read_json(path: Path) -> dict | None:
    """A JSON object file, None when absent."""
    if not path.exists():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"cannot read JSON ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from None
    if not isinstance(obj, dict):
        raise InputError(str(path), "expected a JSON object")
    return obj


def _read_csv(path: Path, strings: bool = False) -> pl.DataFrame | None:
    """A CSV file (all columns as text with strings), None when absent."""
    if not path.exists():
        return None
    try:
        return pl.read_csv(path, infer_schema=not strings, infer_schema_length=None)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(str(path), f"cannot read CSV ({exc.__class__.__name__})") from None


def load_inputs(reports_dir: str | Path) -> Inputs:
    """Read whatever of the run's report files exist under reports_dir; malformed files name themselves."""
    root = Path(reports_dir)
    if not root.is_dir():
        raise InputError(str(root), "no such folder: run `dvc repro` first (the pipeline writes its reports there)")
    counts_dir = root / "counts"
    counts = {p.stem: c for p in sorted(counts_dir.glob("*.json")) if (c := _read_json(p)) is not None} if counts_dir.is_dir() else {}
    return Inputs(
        root=root,
        json={name: _read_json(root / f"{name}.json") for name in JSON_FILES},
        counts=counts,
        plots={name: _read_csv(root / "plots" / f"{name}.csv") for name in PLOT_FILES},
        review=_read_csv(root / "review" / "sample.csv", strings=True),
    )


# ------------------------------------------------------------------------------------------------ HTML helpers


def esc(value: Any) -> str:
    """Text escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A cell value as escaped text: thousands separators for counts, four decimals for scores."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.4f}"
    if isinstance(value, (list, tuple)):
        return esc(", ".join(str(v) for v in value)) if all(not isinstance(v, (dict, list)) for v in value) else esc(json.dumps(value, ensure_ascii=False))
    if isinstance(value, dict):
        return esc(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return esc(value)


def signed(value: float | None) -> str:
    """A difference with its sign, coloured by direction."""
    if value is None:
        return "–"
    cls = "up" if value > 0 else "down" if value < 0 else "flat"
    return f'<span class="{cls}">{"+" if value > 0 else ""}{fmt(float(value))}</span>'


def table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]], raw: Sequence[int] = (), cls: str = "") -> str:
    """An HTML table (no header row when headers is None); cells are escaped unless their column index is in raw (already HTML)."""
    head = f"<thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in headers)}</tr></thead>" if headers is not None else ""
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="{"num" if num else ""}">{v if i in raw else fmt(v)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="{cls}">{head}<tbody>{"".join(body)}</tbody></table>'


def flatten(d: dict, prefix: str = "", sep: str = "_") -> dict[str, Any]:
    """Nested dict -> one level, keys joined by sep."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{sep}{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key, sep))
        else:
            out[key] = v
    return out


def kv_table(d: dict, sep: str = ".") -> str:
    """A two-column table of a (flattened) mapping."""
    return table(["key", "value"], sorted(flatten(d, sep=sep).items()), cls="kv")


def note(text: str) -> str:
    """A highlighted remark (an absent input)."""
    return f'<p class="absent">{esc(text)}</p>'


def details(summary: str, body: str) -> str:
    """A collapsed block (native HTML, no script)."""
    return f"<details><summary>{esc(summary)}</summary>{body}</details>"


def _model_order(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    return [m for m in MODELS if m in names] + sorted(n for n in names if n not in MODELS)


def _model_scale(models: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=list(models), range=[MODEL_COLORS.get(m, "#7a6fb0") for m in models])


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite (the version altair writes) and vega-embed as one script, from vl-convert; safe inside <script>."""
    import vl_convert

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    version = wanted if wanted in vl_convert.get_vegalite_versions() else None
    return vl_convert.javascript_bundle(vl_version=version).replace("</script", "<\\/script")


DVC_VEGA_LITE = "5.21"  # dvc's plot specs are Vega-Lite v5


def dvc_plots_template() -> str:
    """An HTML template for `dvc plots show --html-template` with the chart scripts inlined, so the page draws offline."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=DVC_VEGA_LITE).replace("</script", "<\\/script")
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>DVC plots</title>'
            f"<style>body{{font-family:system-ui,sans-serif}}</style><script>{bundle}</script></head><body>{{plot_divs}}</body></html>\n")


def _json_for_script(obj: Any) -> str:
    """JSON that cannot end or open a tag inside <script type="application/json">."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# ------------------------------------------------------------------------------------------------ page


@dataclass
class Page:
    """Sections and the Vega-Lite specs of their charts."""

    specs: list[dict] = field(default_factory=list)

    def chart(self, chart: alt.TopLevelMixin, rows: list[dict], label: str) -> str:
        """Place a chart (built over alt.Data(name='rows')) with its rows inlined; returns its placeholder div."""
        spec = chart.to_dict()  # validated against the Vega-Lite schema
        spec.pop("$schema", None)
        spec["datasets"] = {"rows": _clean(rows)}
        self.specs.append(spec)
        return f'<div class="chart" data-chart="{len(self.specs) - 1}" role="img" aria-label="{esc(label)}"></div>'


def _clean(rows: list[dict]) -> list[dict]:
    """Rows with NaN/inf as null (JSON has neither)."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


ROWS = alt.Data(name="rows")


def grouped_bars(page: Page, rows: list[dict], y: str, value: str, label: str, facet: str | None = None,
                 domain: tuple[float, float] | None = None, y_title: str | None = None, series: str = "model") -> str:
    """Horizontal bars, one per series member (model) side by side within each category (never stacked)."""
    members = _model_order(r[series] for r in rows) if series == "model" else list(dict.fromkeys(r[series] for r in rows))
    names = {r[facet] for r in rows} if facet else set()
    x_title = next(iter(names)) if len(names) == 1 else value
    x = alt.X(f"{value}:Q", title=x_title, scale=alt.Scale(domain=list(domain)) if domain else alt.Undefined)
    base = alt.Chart(ROWS).mark_bar().encode(
        y=alt.Y(f"{y}:N", sort=None, title=y_title),
        yOffset=alt.YOffset(f"{series}:N", sort=members),
        x=x,
        color=alt.Color(f"{series}:N", scale=_model_scale(members) if series == "model" else alt.Undefined, sort=members, title=series),
        tooltip=[alt.Tooltip(f"{c}:N") for c in ([facet] if facet else []) + [y, series]] + [alt.Tooltip(f"{value}:Q", format=".4f")],
    )
    if len(names) > 1:
        chart = base.properties(width=WIDTH - 120, height=alt.Step(9)).facet(row=alt.Row(f"{facet}:N", title=None, sort=None)).resolve_scale(x="independent", y="independent")
    else:
        chart = base.properties(width=WIDTH, height=alt.Step(9))
    return page.chart(chart, rows, label)


# ------------------------------------------------------------------------------------------------ sections


def _absent(inp: Inputs, rel: str) -> str:
    by = WRITTEN_BY.get(rel)
    return note(f"No {inp.root / rel} in this run" + (f"; {by} writes it." if by else "."))


def _stages(inp: Inputs) -> list[dict]:
    """Per-stage counts in pipeline order, from funnel.json or else counts/*.json."""
    funnel = inp.json["funnel"]
    stages = funnel["stages"] if funnel and isinstance(funnel.get("stages"), list) else [inp.counts[s] for s in PIPELINE if s in inp.counts]
    rank = {s: i for i, s in enumerate(PIPELINE)}
    return sorted(stages, key=lambda s: rank.get(s.get("stage"), len(rank)))


def _headline_metrics(inp: Inputs) -> list[str]:
    plot = _slice_rows(inp)
    names = list(dict.fromkeys(r["metric"] for r in plot))
    if names:
        return names
    return list((inp.json["metrics"] or {}).get("uplift", {}))


def section_summary(inp: Inputs, page: Page) -> str:
    metrics, funnel, manifest = inp.json["metrics"], inp.json["funnel"], inp.json["manifest"]
    parts = []
    if metrics:
        real, mix = flatten(metrics.get("real_only", {})), flatten(metrics.get("mix", {}))
        uplift = metrics.get("uplift", {})
        cards = []
        for name in _headline_metrics(inp):
            if name in real and name in mix:
                diff = uplift.get(name, mix[name] - real[name])
                cards.append(f'<div class="card"><div class="metric">{esc(name)}</div><div>real-only {fmt(real[name])} &rarr; mix {fmt(mix[name])}</div>'
                             f'<div class="big">{signed(diff)}</div></div>')
        if hurt := negative_uplift(metrics):
            parts.append(f'<p class="alert">{esc(hurt[0].upper() + hurt[1:])}. On these metrics a student trained on '
                         "the real seeds alone does better than one trained on the mix.</p>")
        parts.append(f'<div class="cards">{"".join(cards)}</div>' if cards else note("metrics.json has no real-only/mix figures."))
        tr = metrics.get("train_rows", {})
        if tr:
            parts.append(f"<p>Student trained on {fmt(tr.get('real_only'))} real rows (real-only) and on {fmt(tr.get('mix'))} rows, "
                         f"{fmt(tr.get('synthetic_in_mix'))} of them synthetic (mix); scored on {fmt(metrics.get('eval_rows'))} protected real eval rows.</p>")
    else:
        parts.append(_absent(inp, "metrics.json"))
    if funnel:
        parts.append(f"<p>{fmt(funnel.get('generated'))} generated, {fmt(funnel.get('candidates'))} candidates, {fmt(funnel.get('rejected'))} rejected, "
                     f"{fmt(funnel.get('synthetic_in_train'))} synthetic rows in the training set. Funnel adds up: <b>{fmt(funnel.get('adds_up'))}</b>.</p>")
    if manifest:
        parts.append(f"<p>Dataset id <code>{esc(manifest.get('dataset_id', '–'))}</code>.</p>")
    return "".join(parts)


def section_funnel(inp: Inputs, page: Page) -> str:
    stages = _stages(inp)
    if not stages:
        return _absent(inp, "funnel.json")
    order = [s["stage"] for s in stages]
    rows = [{"stage": s["stage"], "outcome": o, "rows": int(s[o]), "order": i} for s in stages for i, o in enumerate(("kept", "rejected"))]
    chart = alt.Chart(ROWS).mark_bar().encode(
        y=alt.Y("stage:N", sort=order, title=None),
        x=alt.X("rows:Q", stack="zero", title="rows"),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())), title=None),
        order=alt.Order("order:Q"),
        tooltip=["stage:N", "outcome:N", alt.Tooltip("rows:Q", format=",")],
    ).properties(width=WIDTH, height=alt.Step(26))
    out = [page.chart(chart, rows, "funnel: rows kept and rejected at each stage, in pipeline order")]
    out.append(table(["stage", "in", "kept", "rejected", "kept %"],
                     [[s["stage"], s["in"], s["kept"], s["rejected"], f"{100 * s['kept'] / s['in']:.1f}" if s["in"] else "–"] for s in stages]))
    funnel = inp.json["funnel"] or {}
    if funnel.get("generate_not_run") or funnel.get("generate_rejected"):
        out.append(f"<p>Generate: {fmt(funnel.get('generate_rejected'))} answers rejected before becoming candidates, "
                   f"{fmt(funnel.get('generate_not_run'))} requests not run.</p>")
    return "".join(out)


def _gate_of(reason: str, gates: Iterable[str]) -> str:
    matches = [g for g in gates if reason.startswith(f"{g}_")]
    return max(matches, key=len) if matches else reason.split("_")[0]


def section_rejects(inp: Inputs, page: Page) -> str:
    stages = _stages(inp)
    funnel = inp.json["funnel"] or {}
    if not stages:
        return _absent(inp, "funnel.json")
    rows = []
    for s in stages:
        gates = list(s.get("rejected_by_gate", {}))
        reasons = s.get("rejected_by_reason", {})
        if s["stage"] == "generate" and not reasons:
            reasons = funnel.get("generate_rejected_by_reason", {})
        for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({"stage": s["stage"], "gate": _gate_of(reason, gates), "reason": reason, "rows": int(n), "of_stage": n / s["in"] if s.get("in") else None})
    out = []
    if rows:
        chart = alt.Chart(ROWS).mark_bar().encode(
            y=alt.Y("reason:N", sort=alt.EncodingSortField("rows", order="descending"), title=None),
            x=alt.X("rows:Q", title="rows rejected"),
            color=alt.Color("gate:N", title="gate"),
            tooltip=["stage:N", "gate:N", "reason:N", alt.Tooltip("rows:Q", format=",")],
        ).properties(width=WIDTH, height=alt.Step(18))
        out.append(page.chart(chart, [{k: r[k] for k in ("stage", "gate", "reason", "rows")} for r in rows], "rejected rows by gate and reason"))
        out.append(table(["stage", "gate", "reason", "rows", "share of stage input"],
                         [[r["stage"], r["gate"], r["reason"], r["rows"], f"{100 * r['of_stage']:.1f} %" if r["of_stage"] is not None else "–"] for r in rows]))
    else:
        out.append("<p>No candidate was rejected.</p>")
    review = funnel.get("review")
    if review:
        dec = review.get("decisions", {})
        out.append(f"<p>Human review: {fmt(review.get('sampled'))} rows sampled; decisions applied: "
                   + ", ".join(f"{esc(k)} {fmt(v)}" for k, v in sorted(dec.items())) + ".</p>")
    return "".join(out)


def _slice_rows(inp: Inputs) -> list[dict]:
    """(slice, model, metric, value) rows from plots/slices.csv, or from metrics.json's slices."""
    df = inp.plots["slices"]
    if df is not None and {"slice", "model"} <= set(df.columns):
        if {"metric", "value"} <= set(df.columns):
            return df.select(pl.col("slice").cast(pl.String), pl.col("model").cast(pl.String), pl.col("metric").cast(pl.String), pl.col("value").cast(pl.Float64)).to_dicts()
        value_cols = [c for c in df.columns if c not in ("slice", "model")]  # an older wide file: one column per metric
        return [{"slice": str(r["slice"]), "model": str(r["model"]), "metric": c, "value": float(r[c])} for r in df.to_dicts() for c in value_cols if r[c] is not None]
    metrics = inp.json["metrics"]
    if not metrics:
        return []
    rows = []
    names = list(metrics.get("uplift", {}))
    for tag, v in {"all": {**{f"real_only_{k}": x for k, x in flatten(metrics.get("real_only", {})).items()},
                           **{f"mix_{k}": x for k, x in flatten(metrics.get("mix", {})).items()}}, **metrics.get("slices", {})}.items():
        for name in names:
            rows += [{"slice": tag, "model": m, "metric": name, "value": float(v[f"{m}_{name}"])} for m in ("real_only", "mix") if f"{m}_{name}" in v]
    return rows


def section_uplift(inp: Inputs, page: Page) -> str:
    metrics = inp.json["metrics"]
    if not metrics:
        return _absent(inp, "metrics.json")
    out = []
    models = _model_order(m for m in metrics if m in MODELS and isinstance(metrics[m], dict))
    flat = {m: flatten(metrics[m]) for m in models}
    keys = list(dict.fromkeys(k for m in models for k in flat[m]))
    uplift = flatten(metrics.get("uplift", {}))
    out.append(table(["metric", *models, "uplift (mix − real-only)"],
                     [[k, *[flat[m].get(k) for m in models], signed(uplift[k]) if k in uplift else "–"] for k in keys], raw=(len(models) + 1,)))
    rows = _slice_rows(inp)
    if rows:
        out.append("<h3>Per slice: real-only beside mix</h3>")
        out.append(grouped_bars(page, rows, "slice", "value", "per-slice scores, real-only beside mix", facet="metric"))
    slices = metrics.get("slices", {})
    if slices:
        cols = list(dict.fromkeys(k for v in slices.values() for k in v))
        cols = ["n", *[c for c in cols if c != "n"]] if "n" in cols else cols
        out.append(details(f"per-slice figures ({len(slices)} slices)",
                           table(["slice", *cols], [[tag, *[signed(v.get(c)) if c.startswith("uplift_") and v.get(c) is not None else fmt(v.get(c)) for c in cols]]
                                                    for tag, v in slices.items()], raw=tuple(range(1, len(cols) + 1)))))
    if metrics.get("by_backend"):
        out.append("<h3>Which generator backend pays</h3>")
        out.append(table(["backend", "synthetic rows", "score with real + this backend only", "uplift over real-only"],
                         [[b, v.get("synthetic_rows"), v.get("macro_f1"), signed(v.get("uplift_macro_f1"))] for b, v in sorted(metrics["by_backend"].items())], raw=(3,)))
    return "".join(out)


def section_labels(inp: Inputs, page: Page) -> str:
    metrics, slices = inp.json["metrics"] or {}, inp.json["slices"] or {}
    out = []
    per_label = slices.get("per_label_f1")
    kind, rows = "label", []
    if per_label:
        rows = [{"label": lab, "model": m, "f1": float(f)} for m in _model_order(per_label) for lab, f in per_label[m].items()]
    elif metrics.get("per_field"):
        kind = "field"
        rows = [{"label": fld, "model": m, "f1": float(v["f1"])} for m in _model_order(metrics["per_field"]) for fld, v in metrics["per_field"][m].items() if "f1" in v]
    if rows:
        out.append(grouped_bars(page, rows, "label", "f1", f"F1 per {kind}, real-only beside mix", domain=(0.0, 1.0), y_title=kind))
        by = {(r["label"], r["model"]): r["f1"] for r in rows}
        labels = list(dict.fromkeys(r["label"] for r in rows))
        out.append(details(f"F1 per {kind} ({len(labels)})", table([kind, "real-only", "mix", "difference"],
                   [[lab, by.get((lab, "real_only")), by.get((lab, "mix")),
                     signed(by[(lab, "mix")] - by[(lab, "real_only")]) if (lab, "mix") in by and (lab, "real_only") in by else "–"] for lab in labels], raw=(3,))))
    elif inp.json["metrics"] is None and inp.json["slices"] is None:
        out.append(_absent(inp, "slices.json"))
    else:
        out.append(note("This task type reports no per-label or per-field F1 (slices.json has no per_label_f1, metrics.json no per_field)."))
    conf = inp.plots["confusion"]
    out.append("<h3>Confusions of the mix model on the eval set</h3>")
    if conf is None or not {"actual", "predicted"} <= set(conf.columns):
        out.append(_absent(inp, "plots/confusion.csv"))
        return "".join(out)
    counts = conf.select(pl.col("actual").cast(pl.String), pl.col("predicted").cast(pl.String)).group_by("actual", "predicted").len("rows").sort("actual", "predicted")
    labels = sorted(set(counts["actual"]) | set(counts["predicted"]))
    chart = alt.Chart(ROWS).mark_rect().encode(
        x=alt.X("predicted:N", sort=labels), y=alt.Y("actual:N", sort=labels),
        color=alt.Color("rows:Q", scale=alt.Scale(scheme="blues"), title="rows"),
        tooltip=["actual:N", "predicted:N", "rows:Q"],
    ).properties(width=alt.Step(max(8, min(26, 520 // max(1, len(labels))))), height=alt.Step(max(8, min(26, 520 // max(1, len(labels))))))
    out.append(page.chart(chart, counts.to_dicts(), "confusion matrix of the mix model: actual label by predicted label"))
    totals = dict(counts.group_by("actual").agg(pl.col("rows").sum()).iter_rows())
    wrong = counts.filter(pl.col("actual") != pl.col("predicted")).sort(["rows", "actual", "predicted"], descending=[True, False, False]).head(TOP_CONFUSIONS)
    if wrong.height:
        out.append(table(["actual", "predicted", "rows", "share of actual"],
                         [[a, p, n, f"{100 * n / totals[a]:.1f} %"] for a, p, n in wrong.iter_rows()]))
    else:
        out.append("<p>No confusions: every eval row was predicted correctly.</p>")
    return "".join(out)


def section_mix(inp: Inputs, page: Page) -> str:
    df = inp.plots["mix"]
    if df is None or not {"label", "family", "source", "rows"} <= set(df.columns):
        mix_counts = inp.counts.get("mix")
        if mix_counts and mix_counts.get("by_label"):
            return _absent(inp, "plots/mix.csv") + table(["label", "rows"], sorted(mix_counts["by_label"].items()))
        return _absent(inp, "plots/mix.csv")
    df = df.select(pl.col("label").cast(pl.String), pl.col("family").cast(pl.String), pl.col("source").cast(pl.String), pl.col("rows").cast(pl.Int64))
    families = sorted(set(df["family"]), key=lambda f: (f != "real", f))
    chart = alt.Chart(ROWS).mark_bar().encode(
        y=alt.Y("label:N", sort=None, title=None),
        x=alt.X("sum(rows):Q", title="training rows"),
        color=alt.Color("family:N", sort=families, title="family"),
        order=alt.Order("family_order:Q"),
        tooltip=["label:N", "family:N", "source:N", alt.Tooltip("rows:Q", format=",")],
    ).properties(width=WIDTH, height=alt.Step(16))
    rank = {f: i for i, f in enumerate(families)}
    rows = [{**r, "family_order": rank[r["family"]]} for r in df.sort("label", "family").to_dicts()]
    out = [page.chart(chart, rows, "training mix: rows per label, by family and source")]
    by_source = df.group_by("source").agg(pl.col("rows").sum()).sort("source")
    by_family = df.group_by("family", "source").agg(pl.col("rows").sum()).sort("source", "family")
    total = int(df["rows"].sum())
    out.append(table(["source", "rows", "share"], [[s, n, f"{100 * n / total:.1f} %"] for s, n in by_source.iter_rows()]))
    out.append(details("rows per family", table(["family", "source", "rows"], list(by_family.iter_rows()))))
    out.append(details("rows per label x family x source", table(["label", "family", "source", "rows"], list(df.sort("label", "family", "source").iter_rows()))))
    return "".join(out)


def section_ratio(inp: Inputs, page: Page) -> str:
    df = inp.plots["uplift_by_ratio"]
    if df is None or "ratio_actual" not in df.columns:
        return _absent(inp, "plots/uplift_by_ratio.csv")
    score = next((c for c in df.columns if c not in ("ratio", "ratio_actual", "synthetic_rows") and not c.startswith("uplift")), None)
    if score is None:
        raise InputError(str(inp.root / "plots/uplift_by_ratio.csv"), "no score column beside ratio, ratio_actual, synthetic_rows")
    base = alt.Chart(ROWS).encode(
        x=alt.X("ratio_actual:Q", title="synthetic share of the training rows"),
        y=alt.Y(f"{score}:Q", title=score, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip(f"{c}:Q") for c in df.columns],
    )
    chart = (base.mark_line(color=MODEL_COLORS["mix"]) + base.mark_point(color=MODEL_COLORS["mix"], filled=True, size=60)).properties(width=WIDTH, height=260)
    out = [page.chart(chart, df.to_dicts(), f"{score} on the eval set as the synthetic share grows")]
    out.append(table(list(df.columns), [list(r) for r in df.iter_rows()]))
    return "".join(out)


DIVERSITY_MEASURES = ("distinct_1", "distinct_2", "distinct_3", "top_archetype_share")


def section_drift(inp: Inputs, page: Page) -> str:
    drift, diversity, leakage = inp.json["drift"], inp.json["diversity"], inp.json["leakage"]
    out = ["<h3>Drift: training text against production traffic</h3>"]
    if drift:
        out.append("<p>domain_auc: how well a classifier tells production from training text (0.5 = indistinguishable); "
                   "length_ks and vocab_js_divergence: 0 = same distribution.</p>")
        out.append(table(["measure", "value"], sorted(drift.items())))
    else:
        out.append(_absent(inp, "drift.json"))
    out.append("<h3>Diversity and mode collapse</h3>")
    if diversity:
        corpora = [c for c in ("real", "synthetic", "train") if isinstance(diversity.get(c), dict)] + sorted(c for c in diversity if c not in ("real", "synthetic", "train") and isinstance(diversity[c], dict))
        rows = [{"measure": m, "corpus": c, "value": float(diversity[c][m])} for c in corpora for m in DIVERSITY_MEASURES if diversity[c].get(m) is not None]
        if rows:
            out.append(grouped_bars(page, rows, "measure", "value", "diversity measures per corpus", domain=(0.0, 1.0), series="corpus"))
        out.append(table(["corpus", "texts", *DIVERSITY_MEASURES, "largest near-dup cluster", "share in near-dup clusters"],
                         [[c, diversity[c].get("n_texts"), *[diversity[c].get(m) for m in DIVERSITY_MEASURES],
                           diversity[c].get("near_dup_cluster_sizes", {}).get("max"), diversity[c].get("near_dup_cluster_sizes", {}).get("share_in_clusters_gt1")] for c in corpora]))
        arche = [[c, a.get("opening"), a.get("count")] for c in corpora for a in diversity[c].get("top_archetypes", [])[:5]]
        if arche:
            out.append(details("most common openings (top 5 per corpus)", table(["corpus", "opening words", "texts"], arche)))
    else:
        out.append(_absent(inp, "diversity.json"))
    out.append("<h3>Leakage into the protected eval set</h3>")
    if leakage:
        items = leakage.get("leaked_eval_items", [])
        verbatim = leakage.get("verbatim_overlap") or {}
        out.append(f"<p>{fmt(len(items))} of {fmt(leakage.get('eval_rows'))} eval rows have an exact or near duplicate among the training rows checked "
                   f"(by source: {', '.join(f'{esc(k)} {fmt(v)}' for k, v in sorted(leakage.get('by_source', {}).items())) or 'none'}); "
                   f"synthetic ones are removed by dedupe. Eval texts also among the real seeds (case and spacing aside): {fmt(verbatim.get('n_eval_texts'))}.</p>")
        if items:
            rows = [[it.get("eval_text"), it.get("label"),
                     "; ".join(f"{n.get('kind')} {n.get('source')} j={fmt(n.get('jaccard'))}{' removed' if n.get('removed') else ''}" for n in it.get("neighbours", []))]
                    for it in items[:TOP_LEAKS]]
            out.append(details(f"leaked eval rows ({len(items)}; first {min(len(items), TOP_LEAKS)})", table(["eval text", "label", "neighbours"], rows, cls="texts")))
    else:
        out.append(_absent(inp, "leakage.json"))
    return "".join(out)


COST_COLUMNS = ("requests", "sent", "cached", "failed", "retries", "input_tokens", "output_tokens", "cost_usd")


def section_cost(inp: Inputs, page: Page) -> str:
    funnel, cost, manifest = inp.json["funnel"], inp.json["cost"], inp.json["manifest"]
    out = ["<h3>Yield</h3>"]
    stages = _stages(inp)
    if funnel or stages:
        generated = (funnel or {}).get("generated", stages[0]["in"] if stages else None)
        in_train = (funnel or {}).get("synthetic_in_train", stages[-1]["kept"] if stages else None)
        rows = [["generated (answers or template rows)", generated], ["candidates", (funnel or {}).get("candidates")]]
        rows += [[f"kept by {s['stage']}", s["kept"]] for s in stages]
        rows += [["synthetic rows in the training set", in_train],
                 ["yield (synthetic in train / generated)", f"{100 * in_train / generated:.1f} %" if generated and in_train is not None else "–"]]
        out.append(table(["", "rows"], rows))
    else:
        out.append(_absent(inp, "funnel.json"))
    out.append("<h3>LLM cost</h3>")
    if cost:
        st = cost.get("stages", {})
        rows = [[name, *[v.get(c) for c in COST_COLUMNS]] for name, v in sorted(st.items())]
        if cost.get("total"):
            rows.append(["total", *[cost["total"].get(c) for c in COST_COLUMNS]])
        out.append(table(["stage", *COST_COLUMNS], rows))
        per = cost.get("per_kept_llm_row", {})
        out.append(f"<p>Per LLM row kept ({fmt(cost.get('kept_llm_rows'))}): {fmt(per.get('cost_usd'))} USD, "
                   f"{fmt(per.get('input_tokens'))} input and {fmt(per.get('output_tokens'))} output tokens. Budget hit: {fmt(cost.get('budget_hit'))}.</p>")
        budget = cost.get("budget") or {}
        if budget:
            out.append(f"<p>Budget: {fmt(budget.get('spent_usd'))} of {fmt(budget.get('budget_usd'))} USD spent; "
                       f"{fmt(budget.get('not_run'))} requests not run.</p>")
        if cost.get("structured_output"):
            out.append(table(["server and model", "structured output"], [[k, v] for k, v in sorted(cost["structured_output"].items())]))
    elif manifest and manifest.get("cost"):
        out.append(_absent(inp, "cost.json") + "<p>From the manifest:</p>" + kv_table(manifest["cost"]))
    else:
        out.append(_absent(inp, "cost.json"))
    return "".join(out)


def section_provenance(inp: Inputs, page: Page) -> str:
    m = inp.json["manifest"]
    if not m:
        return _absent(inp, "manifest.json")
    task = m.get("task", {})
    gen = m.get("generator", {})
    settings = gen.get("settings", {})
    rows = [["dataset id", m.get("dataset_id")], ["task", f"{task.get('name', '–')} ({task.get('type', '–')})"],
            ["labels", task.get("labels")], ["spec md5", task.get("spec_md5")], ["generator backends", settings.get("backends", settings.get("backend"))],
            ["seed", gen.get("seed")], ["prompt templates in the training set", len(gen.get("template_hashes_in_train", []))]]
    llm = gen.get("llm") or {}
    if any(b not in ("template", "variation", "seed_variation", "pseudo_label") for b in settings.get("backends", [])):
        rows += [["LLM model", llm.get("model")], ["LLM temperature", llm.get("temperature")], ["LLM server", llm.get("base_url") or "default"]]
    out = [table(None, rows, cls="kv")]
    if gen.get("prompts"):
        out.append(details("prompt templates (hash)", kv_table(gen["prompts"])))
    out.append(details("generator settings", kv_table(settings)))
    for key, title in (("filters", "filter settings"), ("dedupe", "dedupe settings"), ("mixing", "mixing settings"), ("counts", "counts"), ("versions", "package versions")):
        if m.get(key):
            out.append(details(title, kv_table(m[key])))
    if m.get("artifacts"):
        out.append(details(f"artifacts ({len(m['artifacts'])})", table(["path", "rows", "md5"], [[p, a.get("rows"), a.get("md5")] for p, a in sorted(m["artifacts"].items())])))
    if m.get("code"):
        out.append(details(f"code ({len(m['code'])} files, git blob ids)", table(["file", "blob"], sorted(m["code"].items()))))
    return "".join(out)


def section_review(inp: Inputs, page: Page) -> str:
    df = inp.review
    if df is None:
        return _absent(inp, "review/sample.csv")
    if df.height == 0:
        return "<p>The review sample is empty.</p>"
    blank = [c for c in df.columns if df[c].fill_null("").str.strip_chars().eq("").all()]
    df = df.drop(blank)
    text_cols = {i for i, c in enumerate(df.columns) if c in ("text", "target", "note")}
    out = [f"<p>{fmt(df.height)} rows sampled for human review, stratified over label x family x gate outcome (kept or the reject reason). "
           "Decisions (accept, reject, relabel) written to data/review/decisions.csv are applied on the next run."
           + (f" Columns still blank in every row, left out here: {esc(', '.join(blank))}." if blank else "") + "</p>"]
    rows = [[("" if v is None else v) for v in r] for r in df.iter_rows()]
    cells = [[f'<span class="text">{esc(v)}</span>' if i in text_cols else fmt(v) for i, v in enumerate(r)] for r in rows]
    out.append(table(list(df.columns), cells, raw=tuple(range(len(df.columns))), cls="texts"))
    return "".join(out)


SECTIONS: list[tuple[str, str, Callable[[Inputs, Page], str]]] = [
    ("summary", "Did the synthetic data help?", section_summary),
    ("funnel", "Funnel", section_funnel),
    ("rejects", "Rejects by gate and reason", section_rejects),
    ("uplift", "Uplift: overall and per slice", section_uplift),
    ("labels", "Per-label F1 and confusions", section_labels),
    ("mix", "Training mix: label x family x source", section_mix),
    ("ratio", "Uplift by synthetic ratio", section_ratio),
    ("drift", "Drift, diversity and leakage", section_drift),
    ("cost", "Cost and yield", section_cost),
    ("provenance", "Provenance (manifest)", section_provenance),
    ("review", "Review sample", section_review),
]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#243b53;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}header p{margin:0;opacity:.85}
nav{background:#fff;border-bottom:1px solid #d9e2ec;padding:8px 28px;position:sticky;top:0;z-index:2}
nav a{margin-right:14px;color:#334e68;text-decoration:none;white-space:nowrap}nav a:hover{text-decoration:underline}
main{padding:8px 28px 40px;max-width:1280px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:6px 20px 16px;margin:16px 0;overflow-x:auto}
h2{font-size:18px;border-bottom:1px solid #e4e7eb;padding-bottom:6px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #e4e7eb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}tbody tr:nth-child(even){background:#fafbfc}
table.texts{width:100%}table.texts td{max-width:560px}span.text{display:block;min-width:280px;white-space:pre-wrap;word-break:break-word}
table.kv td.num{text-align:left}
.up{color:#2f855a;font-weight:600}.down{color:#c53030;font-weight:600}.flat{color:#52606d}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d9e2ec;border-radius:6px;padding:10px 14px;min-width:220px}
.card .metric{font-weight:600}.card .big{font-size:24px}
.absent{color:#8a6d3b;background:#fcf8e3;border:1px solid #faebcc;padding:6px 10px;border-radius:4px}
.alert{color:#8a1f11;background:#fdecea;border:1px solid #f5c2c7;padding:6px 10px;border-radius:4px;font-weight:600}
.chart{margin:8px 0}.chart.failed{color:#c53030}details{margin:6px 0}summary{cursor:pointer;color:#334e68}code{background:#f0f4f8;padding:1px 4px}
"""

EMBED = """
(function () {
  var specs = JSON.parse(document.getElementById("synthkit-charts").textContent);
  var opts = {renderer: "svg", actions: false, mode: "vega-lite"};
  var jobs = Array.prototype.map.call(document.querySelectorAll("[data-chart]"), function (el) {
    return vegaEmbed(el, specs[Number(el.getAttribute("data-chart"))], opts).catch(function (err) {
      el.classList.add("failed");
      el.textContent = "This chart could not be drawn: " + err;
      console.error(err);
    });
  });
  Promise.all(jobs).then(function () { document.body.setAttribute("data-charts-drawn", "yes"); });
})();
"""


@dataclass(frozen=True)
class Report:
    """The page and what it holds."""

    html: str
    charts: int
    absent: list[str]


def _section(fn: Callable[[Inputs, Page], str], inp: Inputs, page: Page, head: str) -> str:
    """One section's HTML; an input of an unexpected shape stops the report with one line instead of a traceback."""
    try:
        return fn(inp, page)
    except (KeyError, TypeError, ValueError, AttributeError, pl.exceptions.PolarsError) as exc:
        raise InputError(str(inp.root), f"section {head!r}: a report file has an unexpected shape ({exc.__class__.__name__}: {exc})") from None


def render(inp: Inputs, title: str | None = None) -> Report:
    """The report page of a run's inputs: sections in reading order, every chart a Vega-Lite spec drawn by the inlined bundle."""
    page = Page()
    manifest = inp.json["manifest"] or {}
    task = manifest.get("task", {})
    metrics = inp.json["metrics"] or {}
    name = title or f"synthkit run report: {task.get('name') or inp.root.resolve().parent.name}"
    kind = task.get("type") or metrics.get("task") or ("classification" if inp.json["slices"] and "per_label_f1" in inp.json["slices"] else "unknown")
    bodies = [(sid, head, _section(fn, inp, page, head)) for sid, head, fn in SECTIONS]
    nav = "".join(f'<a href="#{sid}">{esc(head)}</a>' for sid, head, _ in bodies)
    sections = "".join(f'<section id="{sid}"><h2>{esc(head)}</h2>{body}</section>' for sid, head, body in bodies)
    absent = sorted({rel for rel in WRITTEN_BY if not (inp.root / rel).exists()})
    page_html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(name)}</title><style>{CSS}</style><script>{vega_bundle()}</script></head>"
        f'<body data-charts="{len(page.specs)}"><header><h1>{esc(name)}</h1>'
        f"<p>task type {esc(kind)} · from {esc(inp.root.as_posix())} · {len(page.specs)} charts · works offline</p></header>"
        f"<nav>{nav}</nav><main>{sections}</main>"
        f'<script type="application/json" id="synthkit-charts">{_json_for_script(page.specs)}</script>'
        f"<script>{EMBED}</script></body></html>\n"
    )
    return Report(html=page_html, charts=len(page.specs), absent=absent)


def build_report(reports_dir: str | Path, title: str | None = None) -> Report:
    """Read a run's reports folder and render its report page."""
    return render(load_inputs(reports_dir), title)
