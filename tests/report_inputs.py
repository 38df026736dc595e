"""A small classification run's reports/ folder, written file by file, for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

HOSTILE = '</script><script>alert("x")</script> & <b>bold</b>'  # a generated text that must stay text
CHARTS = 8  # funnel, rejects, slices, per-label F1, confusion, mix, ratio curve, diversity

STAGES = [
    {"stage": "generate", "in": 40, "kept": 40, "rejected": 0, "rejected_by_gate": {}, "rejected_by_reason": {}},
    {"stage": "validate", "in": 40, "kept": 38, "rejected": 2, "rejected_by_gate": {"rule": 2}, "rejected_by_reason": {"rule_too_short": 2}},
    {"stage": "filter", "in": 38, "kept": 35, "rejected": 3, "rejected_by_gate": {"pii": 1, "consistency": 2},
     "rejected_by_reason": {"pii_phone": 1, "consistency_disagree": 2}},
    {"stage": "dedupe", "in": 35, "kept": 30, "rejected": 5, "rejected_by_gate": {"dedupe": 5}, "rejected_by_reason": {"dedupe_near": 5}},
    {"stage": "mix", "in": 30, "kept": 20, "rejected": 10, "rejected_by_gate": {"mix": 10}, "rejected_by_reason": {"mix_ratio": 10}},
]


def _json(root: Path, rel: str, obj: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def write_run(root: Path, stage_order: list[int] | None = None) -> Path:
    """Write every report input of a tiny classification run under root (stages listed in stage_order if given)."""
    stages = [STAGES[i] for i in stage_order] if stage_order else STAGES
    _json(root, "funnel.json", {
        "adds_up": True, "candidates": 40, "generated": 40, "generate_rejected": 0, "generate_not_run": 0, "generate_rejected_by_reason": {},
        "rejected": 20, "synthetic_in_train": 20, "rejected_by_reason": {}, "review": {"decisions": {"accept": 1, "reject": 0}, "sampled": 3},
        "stages": stages,
    })
    for s in STAGES:
        _json(root, f"counts/{s['stage']}.json", s)
    _json(root, "metrics.json", {
        "eval_rows": 12, "train_rows": {"real_only": 10, "mix": 30, "synthetic_in_mix": 20},
        "real_only": {"accuracy": 0.75, "macro_f1": 0.7, "n": 12}, "mix": {"accuracy": 0.83, "macro_f1": 0.8, "n": 12},
        "uplift": {"accuracy": 0.08, "macro_f1": 0.1},
        "slices": {"typos": {"n": 4, "real_only_macro_f1": 0.5, "mix_macro_f1": 0.75, "uplift_macro_f1": 0.25}},
        "by_backend": {"template": {"synthetic_rows": 20, "macro_f1": 0.8, "uplift_macro_f1": 0.1}},
    })
    _json(root, "slices.json", {"per_label_f1": {"real_only": {"a": 0.6, HOSTILE: 0.8}, "mix": {"a": 0.7, HOSTILE: 0.9}}})
    _json(root, "drift.json", {"domain_auc": 0.7, "length_ks": 0.2, "n_train": 30, "n_production": 20})
    corpus = {"n_texts": 10, "distinct_1": 0.3, "distinct_2": 0.6, "distinct_3": 0.8, "top_archetype_share": 0.2,
              "near_dup_cluster_sizes": {"max": 1, "n_clusters_gt1": 0, "share_in_clusters_gt1": 0.0},
              "top_archetypes": [{"opening": HOSTILE, "count": 2}]}
    _json(root, "diversity.json", {"train": corpus, "synthetic": corpus, "real": corpus})
    _json(root, "leakage.json", {"eval_rows": 12, "by_source": {"real": 0, "synthetic": 1}, "verbatim_overlap": {"n_eval_texts": 0, "items": []},
                                 "leaked_eval_items": [{"eval_text": HOSTILE, "label": "a", "neighbours": [{"kind": "near", "source": "synthetic", "jaccard": 0.9, "removed": True}]}]})
    _json(root, "cost.json", {"budget_hit": False, "kept_llm_rows": 20, "per_kept_llm_row": {"cost_usd": 0.001, "input_tokens": 50.0, "output_tokens": 20.0},
                              "budget": {"budget_usd": 0.05, "spent_usd": 0.02, "not_run": 0, "exhausted": False},
                              "structured_output": {"http://127.0.0.1:8081/v1 smollm2": "json_object"},
                              "stages": {"generate": {"requests": 10, "cost_usd": 0.02}}, "total": {"requests": 10, "cost_usd": 0.02}})
    _json(root, "manifest.json", {"dataset_id": "abc123", "task": {"name": "tiny", "type": "classification", "labels": ["a", HOSTILE], "spec_md5": "f00"},
                                  "generator": {"seed": 1, "settings": {"backends": ["template"]}, "template_hashes_in_train": ["h1"], "prompts": {}},
                                  "artifacts": {"data/train.parquet": {"md5": "d41d8", "rows": 30}}, "versions": {"polars": "2"}})
    plots = root / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"slice": ["all", "all", "typos", "typos"], "model": ["real_only", "mix"] * 2, "metric": ["macro_f1"] * 4,
                  "value": [0.7, 0.8, 0.5, 0.75]}).write_csv(plots / "slices.csv")
    pl.DataFrame({"order": [1, 2, 3, 4, 5], "stage": [s["stage"] for s in STAGES], "kept": [s["kept"] for s in STAGES],
                  "rejected": [s["rejected"] for s in STAGES]}).write_csv(plots / "funnel.csv")
    pl.DataFrame({"label": ["a", "a", HOSTILE], "family": ["real", "typical", "messy"], "source": ["real", "synthetic", "synthetic"],
                  "rows": [10, 15, 5]}).write_csv(plots / "mix.csv")
    pl.DataFrame({"actual": ["a", "a", HOSTILE, HOSTILE], "predicted": ["a", HOSTILE, HOSTILE, "a"]}).write_csv(plots / "confusion.csv")
    pl.DataFrame({"ratio": [0.0, 0.5], "ratio_actual": [0.0, 0.5], "synthetic_rows": [0, 10], "macro_f1": [0.7, 0.8],
                  "uplift_macro_f1": [0.0, 0.1]}).write_csv(plots / "uplift_by_ratio.csv")
    (root / "review").mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"id": ["1", "2"], "label": ["a", HOSTILE], "family": ["typical", "messy"], "channel": ["chat", "email"],
                  "outcome": ["kept", "dedupe_near"], "text": [HOSTILE, "line one\nline two"], "decision": ["", ""],
                  "new_label": ["", ""], "note": ["", ""]}).write_csv(root / "review" / "sample.csv")
    return root
