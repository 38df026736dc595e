"""The run report: every section from a run's files, absent inputs said, data text escaped, nothing loaded from the network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthkit.cli import app
from synthkit.errors import InputError
from synthkit.report import PIPELINE, SECTIONS, build_report
from tests.report_inputs import CHARTS, HOSTILE, write_run

REPO = Path(__file__).resolve().parents[1]


def _specs(page: str) -> list[dict]:
    data = re.search(r'<script type="application/json" id="synthkit-charts">(.*?)</script>', page, re.S)
    assert data is not None
    return json.loads(data.group(1))


def test_full_run_has_every_section_and_chart(tmp_path):
    report = build_report(write_run(tmp_path / "reports"))
    assert report.charts == CHARTS and report.absent == []
    assert len(_specs(report.html)) == CHARTS == report.html.count('class="chart" data-chart=')
    for sid, _, _ in SECTIONS:
        assert f'<section id="{sid}">' in report.html
    assert 'class="absent"' not in report.html
    assert "+0.1000" in report.html  # the macro-F1 uplift, signed
    # cost.json's keys: cost per kept LLM row, the run's budget and the structured-output mode each server got
    assert "Per LLM row kept (20): 0.0010 USD" in report.html and "0.0200 of 0.0500 USD spent" in report.html
    assert "http://127.0.0.1:8081/v1 smollm2</td><td class=\"\">json_object</td>" in report.html


def test_data_text_is_escaped_everywhere(tmp_path):
    page = build_report(write_run(tmp_path / "reports")).html
    assert HOSTILE not in page and '<script>alert("x")' not in page and "<b>bold</b>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in page  # shown as text in tables
    assert page.count("</script>") == page.count("<script")  # data cannot close a script element
    specs = _specs(page)
    assert any(HOSTILE in r.values() for s in specs for r in s["datasets"]["rows"])  # charts still get the real label


def test_no_network_reference(tmp_path):
    page = build_report(write_run(tmp_path / "reports")).html
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?\s*(https?:)?//", page, re.I)
    assert "$schema" not in page.split('id="synthkit-charts">')[1]
    assert "vegaEmbed" in page  # the chart library is inlined


def test_funnel_chart_keeps_pipeline_order(tmp_path):
    page = build_report(write_run(tmp_path / "reports", stage_order=[4, 2, 0, 3, 1])).html
    funnel = _specs(page)[0]
    assert funnel["encoding"]["y"]["sort"] == list(PIPELINE)
    kept = [r for r in funnel["datasets"]["rows"] if r["outcome"] == "kept"]
    assert [r["stage"] for r in kept] == list(PIPELINE)


def test_slices_are_grouped_not_stacked(tmp_path):
    specs = _specs(build_report(write_run(tmp_path / "reports")).html)
    slices = next(s for s in specs if any(r.get("slice") == "typos" for r in s["datasets"]["rows"]))
    enc = slices.get("spec", slices)["encoding"]
    assert enc["yOffset"]["field"] == "model" and enc["color"]["field"] == "model"
    assert "stack" not in enc["x"]
    assert enc["yOffset"]["sort"] == ["real_only", "mix"]


def test_wide_slices_file_of_older_runs(tmp_path):
    root = write_run(tmp_path / "reports")
    (root / "plots/slices.csv").write_text("slice,model,macro_f1\nall,real_only,0.7\nall,mix,0.8\n")
    rows = next(s for s in _specs(build_report(root).html) if any("slice" in r for r in s["datasets"]["rows"]))["datasets"]["rows"]
    assert {(r["model"], r["metric"], r["value"]) for r in rows} == {("real_only", "macro_f1", 0.7), ("mix", "macro_f1", 0.8)}


def test_empty_reports_folder_says_what_is_absent(tmp_path):
    (tmp_path / "reports").mkdir()
    report = build_report(tmp_path / "reports")
    assert report.charts == 0
    assert report.html.count('class="absent"') >= len(SECTIONS) - 1
    assert "metrics.json in this run; the evaluate stage writes it" in report.html
    assert set(report.absent) >= {"metrics.json", "funnel.json", "manifest.json", "review/sample.csv"}


@pytest.mark.parametrize("kind", ["extraction", "rewrite", "summarization"])
def test_example_task_types(kind, tmp_path):
    src = REPO / "examples" / kind / "reports"
    if not (src / "metrics.json").exists():
        pytest.skip(f"no {src}")
    report = build_report(src)
    assert report.charts >= 5  # funnel, rejects or none, slices, mix, diversity
    assert "plots/confusion.csv" in report.absent and 'class="absent"' in report.html
    headline = (src / "plots/slices.csv").read_text().splitlines()[1].split(",")[2]  # slice,model,metric,value: the type's headline metric
    assert f'<div class="metric">{headline}</div>' in report.html  # the type's own metric heads the page


def test_malformed_input_names_the_file(tmp_path):
    root = write_run(tmp_path / "reports")
    (root / "drift.json").write_text("{not json")
    with pytest.raises(InputError, match=r"drift\.json: cannot read JSON"):
        build_report(root)


def test_unexpected_shape_is_one_error_not_a_traceback(tmp_path):
    root = write_run(tmp_path / "reports")
    (root / "metrics.json").write_text('{"real_only": 3, "mix": {"macro_f1": 0.8}, "uplift": {"macro_f1": "high"}}')
    with pytest.raises(InputError, match=r"reports: section .*unexpected shape"):
        build_report(root)


def test_same_inputs_same_page(tmp_path):
    a = build_report(write_run(tmp_path / "a" / "reports")).html
    b = build_report(write_run(tmp_path / "b" / "reports")).html
    assert a.replace(str(tmp_path / "a"), "") == b.replace(str(tmp_path / "b"), "")


def test_cli_writes_the_page(tmp_path, monkeypatch):
    root = write_run(tmp_path / "reports")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["report", "--reports", "reports"])
    assert res.exit_code == 0, res.output
    assert (root / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = CliRunner().invoke(app, ["report", "--reports", "nowhere"])
    assert missing.exit_code == 2 and "nowhere: no such folder" in missing.output



def test_a_run_whose_synthetic_data_lowered_a_headline_metric_leads_with_it(tmp_path):
    from synthkit.uplift import negative_uplift

    root = write_run(tmp_path / "reports")
    assert 'class="alert"' not in build_report(root).html  # the tiny run gains on both metrics
    metrics = json.loads((root / "metrics.json").read_text())
    assert negative_uplift(metrics) is None
    metrics.update(student="both", mix={"accuracy": 0.83, "macro_f1": 0.65, "n": 12}, uplift={"accuracy": 0.08, "macro_f1": -0.05})
    (root / "metrics.json").write_text(json.dumps(metrics))
    line = negative_uplift(metrics)
    assert line is not None and "macro_f1 0.7000 -> 0.6500 (-0.0500)" in line and "accuracy" not in line and "both" in line
    summary = build_report(root).html.split('id="summary"')[1].split("</section>")[0]
    assert summary.count('class="alert"') == 1 and "macro_f1 0.7000 -&gt; 0.6500" in summary
