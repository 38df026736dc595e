"""The custom DVC plot templates (.dvc/plots): the funnel in pipeline order, slices as grouped bars real-only beside mix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthkit.report import DVC_VEGA_LITE

vlc = pytest.importorskip("vl_convert")
from dvc_render.vega import VegaRenderer  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / ".dvc" / "plots"


def _svg(rows: list[dict], template: str, x: str, y: str) -> str:
    """Fill the template as `dvc plots show` does (CSV values arrive as strings) and draw it."""
    spec = VegaRenderer([{k: str(v) for k, v in r.items()} for r in rows], "plot.csv", template=template, template_dir=str(TEMPLATES),
                        x=x, y=y).get_filled_template()
    return vlc.vegalite_to_svg(spec, vl_version=DVC_VEGA_LITE)


def test_funnel_follows_the_order_column_not_the_alphabet():
    stages = [("mix", 5, 2), ("dedupe", 7, 1), ("generate", 10, 0), ("validate", 9, 1), ("filter", 8, 1)]
    order = {"generate": 1, "validate": 2, "filter": 3, "dedupe": 4, "mix": 5}
    rows = [{"order": order[s], "stage": s, "kept": k, "rejected": r, "rev": "workspace"} for s, k, r in stages]
    svg = _svg(rows, "funnel", "kept", "stage")
    assert re.findall(r">(generate|validate|filter|dedupe|mix)<", svg) == ["generate", "validate", "filter", "dedupe", "mix"]


def test_slices_are_side_by_side_with_one_scale_per_metric():
    rows = [{"slice": s, "model": m, "metric": metric, "value": v, "rev": "workspace"}
            for metric, scale in (("f1", 1.0), ("chrf", 100.0)) for s in ("all", "typos") for m, v in (("real_only", 0.5 * scale), ("mix", 0.8 * scale))]
    svg = _svg(rows, "grouped_bars", "value", "slice")
    bars = re.findall(r'<path aria-label="value: ([\d.]+); slice: (\w+); model: (\w+)"[^>]*aria-roledescription="bar" d="M([\d.]+),([\d.]+)h([\d.]+)', svg)
    assert len(bars) == 8  # two models x two slices x two metrics
    assert all(float(x0) == 0 for _, _, _, x0, _, _ in bars)  # every bar starts at zero: side by side, never stacked
    assert {float(w) for v, _, _, _, _, w in bars if float(v) in (0.8, 80)} == {360.0}  # one x scale per metric: f1 0.8 and chrF 80 both fill it
    tops = [(s, m, float(y)) for _, s, m, _, y, _ in bars[:4]]
    assert len({y for _, _, y in tops}) == 4 and [m for _, m, _ in tops] == ["real_only", "mix", "real_only", "mix"]
