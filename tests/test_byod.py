"""Bring your own data: column mapping, derived spec, `synthkit init`, the template-free backends and quotas."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from synthkit.byod import derive_spec, infer_columns, labels_of, scaffold_params
from synthkit.cli import app
from synthkit.config import Columns, GenerateParams, Params, PseudoLabelParams, SeedVariationParams
from synthkit.errors import InputError
from synthkit.generators.pseudo_label import generate_pseudo_labels, select_pseudo_labels
from synthkit.generators.seed_variation import generate_seed_variations, recombine
from synthkit.prepare import load_labeled, load_unlabeled
from synthkit.spec import Spec
from tests.examples import generate

TOPICS = {
    "card_lost": ["i lost my card", "my card is missing", "card was stolen yesterday", "cannot find my bank card anywhere",
                  "lost card, please block it", "someone stole my card and wallet"],
    "balance_check": ["what is my balance", "how much money is in my account", "show me my account balance please",
                      "check balance on savings", "balance of my checking account", "how much do i have left"],
    "transfer_fail": ["my transfer failed", "the transfer did not go through", "why was my transfer declined",
                      "transfer to my friend failed again", "money transfer error", "payment transfer was rejected"],
}
POOL = ["i think i lost my card at the shop", "what's my current balance", "transfer failed with an error",
        "my wallet and card were stolen", "how much is in savings", "the bank declined my transfer", "block my lost card"]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        pl.DataFrame(rows).write_csv(path)
    elif path.suffix == ".parquet":
        pl.DataFrame(rows).write_parquet(path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _labeled(column_text="utterance", column_label="intent"):
    return [{column_text: t, column_label: lab} for lab, ts in TOPICS.items() for t in ts]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_own_file_with_column_mapping_loads(tmp_path, suffix):
    path = _write(tmp_path / f"seeds{suffix}", _labeled())
    cols = infer_columns(path)
    assert (cols.text, cols.label) == ("utterance", "intent")
    labels = labels_of(path, cols)
    assert labels == sorted(TOPICS)
    seeds, dups, _ = load_labeled(path, "seed", cols, labels)
    assert seeds.height == 18 and dups == 0
    assert set(seeds["label"]) == set(TOPICS)


def test_bad_column_mapping_names_file_and_missing_column(tmp_path):
    path = _write(tmp_path / "seeds.csv", _labeled())
    with pytest.raises(InputError) as err:
        load_labeled(path, "seed", Columns(text="utterance", label="category"), sorted(TOPICS))
    assert str(path) in str(err.value) and "category" in str(err.value) and "missing column" in str(err.value)
    with pytest.raises(InputError, match="column 'txt' not found"):
        infer_columns(path, text="txt")
    odd = _write(tmp_path / "odd.jsonl", [{"a": "x", "b": "y"}])
    with pytest.raises(InputError, match="--text-column"):
        infer_columns(odd)


def test_derived_spec_is_valid_and_rejects_bad_label_names():
    spec = Spec.model_validate(derive_spec(sorted(TOPICS), {"card_lost": "The customer's card is lost or stolen."}))
    assert spec.label_names == sorted(TOPICS)
    assert spec.labels[1].definition == "The customer's card is lost or stolen." and not spec.scenarios
    with pytest.raises(InputError, match="Refund_not_showing_up"):
        derive_spec(["ok_label", "Refund_not_showing_up"])
    with pytest.raises(InputError, match="unknown label 'nope'"):
        derive_spec(["a_b", "c_d"], {"nope": "a definition text"})


def test_scaffolded_params_validate_and_point_at_the_files():
    params = scaffold_params(None, Columns(text="utterance", label="intent"), "mine/seeds.csv", "mine/eval.csv", "mine/pool.jsonl")
    p = Params.model_validate(params)
    assert (p.prepare.seeds, p.prepare.eval, p.prepare.unlabeled) == ("mine/seeds.csv", "mine/eval.csv", "mine/pool.jsonl")
    assert p.prepare.columns.text == "utterance" and p.generate.backends == ["pseudo_label", "seed_variation"]
    assert Params.model_validate(scaffold_params(None, Columns(), "s.csv", None, None)).generate.backends == ["seed_variation"]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository to init projects in: this one's stages, code, prompts and params.yaml."""
    from synthkit import dag
    from tests.repo_copy import REPO

    root = tmp_path / "repo"
    root.mkdir()
    for name in ("stages", "src", "prompts"):
        (root / name).symlink_to(REPO / name)
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text())
    monkeypatch.setattr(dag, "REPO", root)
    return root


def test_init_makes_a_new_project_folder_and_keeps_the_params_comments(tmp_path, repo):
    seeds = _write(tmp_path / "seeds.csv", _labeled())
    evalf = _write(tmp_path / "eval.jsonl", _labeled())
    pool = _write(tmp_path / "pool.jsonl", [{"utterance": t} for t in POOL])
    args = ["init", str(seeds), "--eval", str(evalf), "--unlabeled", str(pool), "--name", "intents"]
    runner = CliRunner()
    res = runner.invoke(app, args)  # a fresh clone: no --force needed
    assert res.exit_code == 0, res.output
    assert "3 labels" in res.output and "Next:" in res.output
    folder = repo / "projects" / "intents"
    spec = Spec.model_validate(yaml.safe_load((folder / "spec.yaml").read_text()))
    assert spec.label_names == sorted(TOPICS)
    text = (folder / "params.yaml").read_text()
    params = Params.model_validate(yaml.safe_load(text))
    assert (folder / params.prepare.seeds).resolve() == seeds.resolve() and (folder / params.prepare.unlabeled).resolve() == pool.resolve()
    assert params.prepare.columns.label == "intent" and params.generate.backends == ["pseudo_label", "seed_variation"]
    assert params.mix.synthetic_ratio == "auto" and params.generate.quotas == {"seed_variation": 1000}
    assert params.prepare.conflicts == "error"  # no text of these files carries two labels
    root_comments = [line.split("#", 1)[1] for line in (repo / "params.yaml").read_text().splitlines() if "#" in line]
    assert all(c in text for c in root_comments)  # every comment of the repository's params survives
    stages = yaml.safe_load((folder / "dvc.yaml").read_text())["stages"]
    assert stages["prepare"]["cmd"].startswith("python ../../stages/prepare.py") and "mix" in stages
    assert (folder / "data/review/decisions.csv").read_text().startswith("id,decision")
    spec_before = (folder / "spec.yaml").read_text()
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.output and "params.yaml" in again.output
    assert (folder / "spec.yaml").read_text() == spec_before
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and f"replacing {folder / 'params.yaml'}" in forced.output
    bad = runner.invoke(app, [*args, "--force", "--label-column", "nope"])
    assert bad.exit_code == 2 and "'nope' not found" in bad.output
    outside = runner.invoke(app, [*args, "--dir", str(tmp_path / "elsewhere")])
    assert outside.exit_code == 2 and "inside the repository" in outside.output


def test_init_on_files_where_a_text_carries_two_labels_says_so_and_writes_conflicts_drop(tmp_path, repo):
    from synthkit.prepare import load_labeled

    seeds = _write(tmp_path / "seeds.csv", _labeled())
    rows = _labeled() + [{"utterance": "My transfer failed!", "intent": "card_lost"}]  # "my transfer failed" is transfer_fail
    evalf = _write(tmp_path / "eval.jsonl", rows)
    res = CliRunner().invoke(app, ["init", str(seeds), "--eval", str(evalf), "--name", "clash"])
    assert res.exit_code == 0, res.output
    warning = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and str(evalf) in warning[0] and "1 text(s)" in warning[0] and "row 19" in warning[0]
    assert "prepare.conflicts: drop" in warning[0]
    folder = repo / "projects" / "clash"
    params = Params.model_validate(yaml.safe_load((folder / "params.yaml").read_text()))
    assert params.prepare.conflicts == "drop"
    loaded = load_labeled(evalf, "eval", params.prepare, sorted(TOPICS))
    assert loaded.conflicts == 2 and loaded.frame.height == len(rows) - 2  # both copies of the text are left out


def test_init_params_text_edits_values_in_place():
    from synthkit.byod import init_params_text, set_values


    base = "a:\n  b: 1   # keep me\n  c: [x]\nd: 2\n"
    assert set_values(base, {"a.b": 5, "a.c": ["y", "z"]}) == "a:\n  b: 5   # keep me\n  c: [y, z]\nd: 2\n"
    with pytest.raises(InputError, match="a.e"):
        set_values(base, {"a.e": 1})
    with pytest.raises(InputError, match="no line for prepare"):
        init_params_text("seed: 13\n", Columns(), "s.csv", None, None)  # a params file without the knobs

def _seeds_and_pool(tmp_path):
    cols = Columns(text="utterance", label="intent")
    seeds, *_ = load_labeled(_write(tmp_path / "s.jsonl", _labeled()), "seed", cols, sorted(TOPICS))
    pool = load_unlabeled(_write(tmp_path / "p.jsonl", [{"utterance": t} for t in POOL + ["i lost my card"]]), cols)
    return seeds, pool


def test_pseudo_label_rows_carry_confidence_round_and_backend(tmp_path):
    seeds, pool = _seeds_and_pool(tmp_path)
    params = PseudoLabelParams(rounds=2, label_cap=1, cap_growth=2.0, agreement="none")
    out = generate_pseudo_labels(seeds, pool, params)
    assert out.height == len(set(out["text"])) <= 6  # caps 1 then 2 per label, 3 labels
    assert "i lost my card" not in out["text"].to_list()  # a seed text is never pseudo-labeled
    assert set(out["generator"].struct.field("backend")) == {"pseudo_label"}
    assert out["round"].min() >= 1 and out["round"].max() <= 2 and out["confidence"].is_between(0, 1).all()
    assert set(out["source"]) == {"synthetic"} and all(len(p) == 1 for p in out["parent_ids"])
    truth = {"i think i lost my card at the shop": "card_lost", "what's my current balance": "balance_check", "transfer failed with an error": "transfer_fail"}
    got = dict(out.select("text", "label").iter_rows())
    assert sum(got.get(t) == lab for t, lab in truth.items()) >= 2
    assert out.equals(generate_pseudo_labels(seeds, pool.sample(fraction=1.0, shuffle=True, seed=3), params))  # order-free


def test_pseudo_label_confidence_threshold_and_cap():
    texts = [t for ts in TOPICS.values() for t in ts]
    labels = [lab for lab, ts in TOPICS.items() for _ in ts]
    none = select_pseudo_labels(texts, labels, POOL, PseudoLabelParams(rounds=1, label_cap=5, min_confidence=0.999, agreement="none"))
    assert none == []
    capped = select_pseudo_labels(texts, labels, POOL, PseudoLabelParams(rounds=1, label_cap=1, agreement="none"))
    assert len(capped) <= 3 and len({lab for _, lab, _, _ in capped}) == len(capped)


def test_seed_variation_needs_no_templates(tmp_path):
    seeds, _ = _seeds_and_pool(tmp_path)
    spec = Spec.model_validate(derive_spec(sorted(TOPICS)))
    out = generate_seed_variations(seeds, spec, SeedVariationParams(per_seed=3, hard_negatives_per_pair=2, confused_pairs=3), ["chat", "email"], 13)
    assert out.height > 0 and set(out["generator"].struct.field("backend")) == {"seed_variation"}
    assert not set(out["text"]) & set(seeds["text"])
    assert out["label"].is_in(sorted(TOPICS)).all()
    assert out.equals(generate_seed_variations(seeds, spec, SeedVariationParams(per_seed=3, hard_negatives_per_pair=2, confused_pairs=3), ["chat", "email"], 13))


def test_recombine_keeps_in_label_phrasing():
    import random

    text = recombine("my card is gone, please block it", ["i lost it at the shop, can you freeze it"], random.Random(1))
    assert text == "my card is gone, can you freeze it"
    assert recombine("no boundary here", ["nor here"], random.Random(1)) is None


def test_backends_combine_under_quotas(tmp_path, spec):
    seeds, pool = _seeds_and_pool(tmp_path)
    params = GenerateParams(backends=["seed_variation", "pseudo_label"], quotas={"seed_variation": 4}, pseudo_label=PseudoLabelParams(agreement="none"))
    out = generate(Spec.model_validate(derive_spec(sorted(TOPICS))), Params(generate=params), seeds, None, tmp_path, unlabeled=pool).candidates
    backends = out["generator"].struct.field("backend").value_counts().sort("backend")
    counts = dict(backends.iter_rows())
    assert counts["seed_variation"] == 4 and counts["pseudo_label"] >= 1
    with pytest.raises(InputError, match="quota for a backend"):
        generate(spec, Params(generate=GenerateParams(backends=["template"], quotas={"pseudo_label": 3})), seeds, None, tmp_path, unlabeled=pool)
    with pytest.raises(InputError, match="unlabeled pool"):
        generate(spec, Params(generate=GenerateParams(backends=["pseudo_label"])), seeds, None, tmp_path)


def _prepare_stage(tmp_path: Path, columns: dict) -> object:
    from tests.repo_copy import REPO, run

    seeds = _write(tmp_path / "own_seeds.jsonl", _labeled())
    evalf = _write(tmp_path / "own_eval.parquet", _labeled())
    pool = _write(tmp_path / "own_pool.csv", [{"utterance": t} for t in POOL])
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(derive_spec(sorted(TOPICS))))
    params = Params().model_dump(by_alias=True, mode="json")
    params["prepare"]["columns"] = {**params["prepare"]["columns"], **columns}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return run(
        ["python", str(REPO / "stages/prepare.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(spec),
         "--seeds", str(seeds), "--eval", str(evalf), "--production", str(pool), "--unlabeled", str(pool),
         "--out-dir", str(tmp_path / "out"), "--counts", str(tmp_path / "out/counts.json")],
        cwd=REPO, check=False,
    )


def test_prepare_stage_reads_own_files_through_the_mapping(tmp_path):
    res = _prepare_stage(tmp_path, {"text": "utterance", "label": "intent"})
    assert res.returncode == 0, res.stderr
    counts = json.loads((tmp_path / "out/counts.json").read_text())
    assert counts["unlabeled"] == len(POOL) and counts["eval"] == 18 and counts["seed_labels"] == 3
    assert set(pl.read_parquet(tmp_path / "out/unlabeled.parquet")["split"]) == {"unlabeled"}


def test_prepare_stage_bad_mapping_is_one_line_naming_file_and_column(tmp_path):
    res = _prepare_stage(tmp_path, {"text": "utterance", "label": "category"})
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "own_seeds.jsonl" in res.stderr and "field 'category': missing column" in res.stderr
    assert not (tmp_path / "out").exists()
