"""Does the synthetic mix beat real data alone on public intent data? Banking77 and CLINC150, read in place.

For each dataset and each of 5 draws: k=10 seeds per label from the train split, the rest of the train split
as the unlabeled pool (labels hidden), the test split as the protected eval set (CLINC150: in-scope test rows).
Each draw runs the library code the DVC stages run: prepare (load_labeled / load_unlabeled), generate
(the configured template-free backends), validate (format + rule gates), filter (PII, toxicity,
critic, consistency), dedupe (against seeds and the eval set, by meaning too), mix (mix.synthetic_ratio auto: the
amount chosen by cross-validation over the seeds), evaluate (real-only vs mix for every student of synthkit.students,
the project's evaluate.students first; each backend alone with the first). The params are exactly the ones
`synthkit init` writes for a dataset with an unlabeled pool (init_params): no per-dataset setting, no override
(--set is for --dev experiments; a run with it is not `defaults`). Pseudo-label accuracy (the pool's hidden labels
are known here) is reported per round of first selection, after the filter and in the mix.

Leakage: with the full train split as seeds and the held-out splits as eval (Banking77: test; CLINC150:
validation + test), the dedupe gate's report and the verbatim overlap (same text up to case and whitespace).

Defaults are checked with `--dev`: the eval set is then 1,500 texts carved from the pool of each draw (held out of
the pool), never the test split.

    python benchmarks/real_data.py                 # both datasets, 5 draws -> reports/bench/real_data.json
    python benchmarks/real_data.py --dev --draws 2 # the same on a dev split carved from the pool (for tuning)
    python benchmarks/real_data.py --review        # a person answers the review sample -> reports/bench/real_data_reviewed.json

With --review the filter stage's review sample (filter.review: 5% of each stratum, least confident pseudo-labels
first) is answered the way a careful person would, with the pool's hidden labels (review_decisions), and the filter
reruns with those decisions as the stage does; such a run is not `defaults`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from collections import defaultdict
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from synthkit.byod import derive_spec, label_conflicts  # noqa: E402
from synthkit.config import Columns, Params  # noqa: E402
from synthkit.schemas import Example, rows_to_frame  # noqa: E402
from synthkit.dedupe import dedupe, verbatim_overlap  # noqa: E402
from synthkit.cost import CostLedger  # noqa: E402
from synthkit.engine import LocalEngine  # noqa: E402
from synthkit.students import STUDENTS  # noqa: E402
from synthkit.gates.pii import build_analyzer  # noqa: E402
from synthkit.gates.rules import gate_format, gate_rules  # noqa: E402
from synthkit.io import write_json  # noqa: E402
from synthkit.mix import mix, mix_weights  # noqa: E402
from synthkit.mix_auto import choose_amount  # noqa: E402
from synthkit.pipeline import run_gates  # noqa: E402
from synthkit.prepare import load_labeled, load_unlabeled  # noqa: E402
from synthkit.review import Decision, apply_decisions, review_sample  # noqa: E402
from synthkit.spec import Spec  # noqa: E402
from synthkit.tasks.base import TaskContext  # noqa: E402
from synthkit.tasks.classification.evaluate import students_metrics, uplift_by_backend  # noqa: E402
from synthkit.tasks.classification.generate import check_quotas, template_free_candidates  # noqa: E402
from synthkit.tasks.registry import load_step  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
SOURCES = {
    "banking77": {"file": "banking77/banking77.jsonl", "eval_splits": ["test"], "leak_splits": ["test"], "drop_labels": []},
    "clinc150": {"file": "clinc150/clinc150.jsonl", "eval_splits": ["test"], "leak_splits": ["validation", "test"], "drop_labels": ["oos"]},
}
K = 10
DRAWS = 5
DEV_SIZE = 1500
def slug(label: str) -> str:
    """A spec-valid label name: Banking77 has 'Refund_not_showing_up' and 'reverted_card_payment?'."""
    return re.sub(r"[^a-z0-9_]+", "_", label.lower()).strip("_")


def dataset_rows(name: str) -> list[dict]:
    """The dataset's rows as its file holds them, each with its 1-based `line` in that file: reports name a row by its
    line (`sed -n '<line>p' ../shared/datasets/<file>`), never by copying its text."""
    lines = (DATASETS / SOURCES[name]["file"]).read_text(encoding="utf-8").splitlines()
    return [{**json.loads(line), "line": i} for i, line in enumerate(lines, 1) if line.strip()]


def read_rows(name: str) -> list[dict]:
    """The rows a draw uses: labels made spec-valid, the dataset's dropped labels left out."""
    src = SOURCES[name]
    return [{**r, "label": slug(r["label"])} for r in dataset_rows(name) if r["label"] not in src["drop_labels"]]


def init_params() -> Params:
    """The params `synthkit init` writes for a labeled seed file, a protected eval file and an unlabeled pool."""
    from synthkit.byod import init_params_text

    text = init_params_text((ROOT / "params.yaml").read_text(encoding="utf-8"), Columns(), "seeds.jsonl", "eval.jsonl", "pool.jsonl")
    return Params.model_validate(yaml.safe_load(text))


def merge(base: dict, over: dict) -> dict:
    """`over` merged into `base`, nested mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out.get(key) or {}, value) if isinstance(value, dict) and key != "quotas" else value
    return out


def parse_sets(items: list[str]) -> dict:
    """--set a.b.c=value (value parsed as YAML) as a nested mapping."""
    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item}: expected key=value")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw)
    return out


def bench_params(overrides: dict | None = None) -> Params:
    """init_params with the --set overrides merged in; every student is evaluated, the project's first."""
    params = init_params()
    if overrides:
        params = Params.model_validate(merge(params.model_dump(by_alias=True), overrides))
    students = list(params.evaluate.students) + [s for s in STUDENTS if s not in params.evaluate.students]
    return params.model_copy(update={"evaluate": params.evaluate.model_copy(update={"students": students})})


def write_jsonl(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def draw_split(train: list[dict], draw: int, dev: bool) -> tuple[list[dict], list[dict], list[dict]]:
    """k seeds per label, the rest as pool; with dev, DEV_SIZE labeled texts carved from the pool."""
    rng = random.Random(f"real_data:{draw}")
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(train):
        by_label[r["label"]].append(i)
    seed_idx = sorted(i for lab in sorted(by_label) for i in rng.sample(by_label[lab], K))
    chosen = set(seed_idx)
    rest = [i for i in range(len(train)) if i not in chosen]
    rng.shuffle(rest)
    dev_idx = rest[:DEV_SIZE] if dev else []
    pool_idx = sorted(rest[DEV_SIZE:] if dev else rest)
    return [train[i] for i in seed_idx], [train[i] for i in pool_idx], [train[i] for i in sorted(dev_idx)]


_WORKER: dict = {}


def run_task(task: tuple[str, int, bool, str] | tuple[str, int, bool, str, bool]) -> dict:
    """One (dataset, draw) in a worker process; params, PII analyzer and rows are built once per process."""
    name, draw, dev, overrides, *review = task
    if "params" not in _WORKER:
        _WORKER["params"] = bench_params(json.loads(overrides))
        _WORKER["analyzer"] = build_analyzer(_WORKER["params"].filter.pii.spacy_model) if _WORKER["params"].filter.pii.enabled else None
    if name not in _WORKER:
        _WORKER[name] = read_rows(name)
    t0 = time.perf_counter()
    out = run_draw(name, _WORKER[name], draw, _WORKER["params"], _WORKER["analyzer"], dev, bool(review and review[0]))
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def review_decisions(sample: pl.DataFrame, truth: dict[str, str]) -> dict[str, Decision]:
    """A person who answers every row of the review sample that came from the pool: accept when its label is the
    true one, else relabel to it (rows built from the seeds are labelled by construction and left undecided)."""
    out = {}
    for ex_id, text, label in sample.select("id", "text", "label").iter_rows():
        if text in truth:
            right = truth[text] == label
            out[ex_id] = Decision(id=ex_id, decision="accept" if right else "relabel", new_label=None if right else truth[text])
    return out


def run_draw(name: str, rows: list[dict], draw: int, params: Params, analyzer, dev: bool, review: bool = False) -> dict:
    train = [r for r in rows if r["split"] == "train"]
    seeds_raw, pool_raw, dev_raw = draw_split(train, draw, dev)
    eval_raw = dev_raw if dev else [r for r in rows if r["split"] in SOURCES[name]["eval_splits"]]
    labels = sorted({r["label"] for r in train})
    spec = Spec.model_validate(derive_spec(labels, name=name, source=name))
    cols = Columns()
    seed = params.seed + draw
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keep = lambda rs: [{"text": r["text"], "label": r["label"]} for r in rs]  # noqa: E731
        files = {"seed": write_jsonl(keep(seeds_raw), tmp / "seeds.jsonl"), "eval": write_jsonl(keep(eval_raw), tmp / "eval.jsonl")}
        # what `synthkit init` writes for these files: prepare.conflicts drop when a text carries two labels
        conflicts = {split: label_conflicts(path, cols)[0] for split, path in files.items()}
        settings = params.prepare.model_copy(update={"columns": cols, "conflicts": "drop" if any(conflicts.values()) else params.prepare.conflicts})
        seeds, _, seed_dropped = load_labeled(files["seed"], "seed", settings, labels)
        eval_, _, eval_dropped = load_labeled(files["eval"], "eval", settings, labels)
        pool = load_unlabeled(write_jsonl([{"text": r["text"]} for r in pool_raw], tmp / "pool.jsonl"), cols)
    t0 = time.perf_counter()
    check_quotas(params.generate)
    candidates = template_free_candidates(spec, seeds, pool, params.generate, seed)
    t_gen = time.perf_counter() - t0
    validated, _ = run_gates(candidates, [("format", gate_format), ("rule", lambda f: gate_rules(f, spec))])
    ctx = TaskContext(spec, params, progress=False)
    filter_step = load_step(spec, params, "filter")
    gates = filter_step.filter_gates(ctx, seeds, {}, analyzer, LocalEngine(), CostLedger())
    filtered, f_rejects = run_gates(validated, gates)
    reviewed = None
    if review:  # the filter stage's review sample answered (review_decisions), then the stage rerun with the decisions
        sample = review_sample(filtered, f_rejects, params.filter.review, params.seed)
        decisions = review_decisions(sample, {r["text"]: r["label"] for r in pool_raw})
        gates = filter_step.filter_gates(ctx, seeds, decisions, analyzer, LocalEngine(), CostLedger())
        filtered, _ = run_gates(apply_decisions(validated, decisions), gates)
        reviewed = {"sampled": sample.height, "decided": len(decisions), "relabelled": sum(d.decision == "relabel" for d in decisions.values()),
                    "order": params.filter.review.order, "fraction": params.filter.review.fraction}
    deduped, d_rejects, _ = dedupe(filtered, seeds, eval_, params.dedupe)
    mix_step = load_step(spec, params, "mix")
    amount = choose_amount(seeds, deduped, params.mix, seed, partial(mix_step.mix_score, ctx), student=params.evaluate.students[0],
                           teacher=partial(mix_step.fold_teacher, ctx))
    train_mix, _ = mix(seeds, deduped, params.mix, seed, target=amount["target"])
    t_gates = time.perf_counter() - t0 - t_gen
    real = mix_weights(seeds.filter(pl.col("split") == "seed"), params.mix)
    metrics, _, _ = students_metrics(real, train_mix, eval_, labels, params.evaluate)
    by_backend = uplift_by_backend(train_mix, eval_, labels, params.evaluate, metrics["real_only"]["macro_f1"])
    truth = {r["text"]: r["label"] for r in pool_raw}

    def pseudo(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("generator").struct.field("backend") == "pseudo_label")

    def accuracy(frame: pl.DataFrame) -> float:
        return round(sum(truth.get(t) == lab for t, lab in frame.select("text", "label").iter_rows()) / max(frame.height, 1), 4)

    pl_rows, pl_cands = pseudo(train_mix), pseudo(candidates)
    by_round = {str(r): {"rows": part.height, "accuracy": accuracy(part)} for (r,), part in sorted(pl_cands.group_by("round"))}
    out = {
        "draw": draw, "seeds": seeds.height, "pool": pool.height, "eval": eval_.height,
        "prepare_conflicts": {"policy": settings.conflicts, "texts": conflicts, "rows_dropped": {"seed": seed_dropped, "eval": eval_dropped}},
        "candidates": candidates.height, "validated": validated.height, "filtered": filtered.height, "deduped": deduped.height,
        "synthetic_in_mix": metrics["train_rows"]["synthetic_in_mix"], "pseudo_label_accuracy": accuracy(pl_rows),
        # pseudo-labels among the candidates, grouped by the round each text was first taken, and after the filter gates
        "pseudo_label_accuracy_by_round": by_round, "pseudo_label_accuracy_filtered": accuracy(pseudo(filtered)),
        "pseudo_label_rows_filtered": pseudo(filtered).height,
        "dedupe_eval_rejects": {r: n for r, n in d_rejects.filter(pl.col("reason").str.starts_with("dedupe_eval_")).group_by("reason").len().sort("reason").iter_rows()},
        "real_only_macro_f1": metrics["real_only"]["macro_f1"], "mix_macro_f1": metrics["mix"]["macro_f1"],
        "uplift": metrics["uplift"]["macro_f1"], "student": metrics["student"],
        "students": {k: {"real_only_macro_f1": v["real_only"]["macro_f1"], "mix_macro_f1": v["mix"]["macro_f1"], "uplift": v["uplift"]["macro_f1"]}
                     for k, v in metrics["students"].items()},
        "by_backend": by_backend, "mix_auto": {k: amount[k] for k in ("chosen", "curve", "teacher_refit_per_fold") if k in amount},
        "generate_s": round(t_gen, 1), "gates_s": round(t_gates, 1),
        **({"reviewed": reviewed} if reviewed else {}),
    }
    print(f"{name} draw {draw}: {json.dumps(out)}", flush=True)
    return out


def leakage(name: str, params: Params) -> dict:
    """Full train split as seeds, the held-out splits as eval: the dedupe gate's report and the verbatim overlap."""
    def frame(rs: list[dict], prefix: str) -> pl.DataFrame:
        return pl.DataFrame({"id": [f"{prefix}{i}" for i in range(len(rs))], "text": [r["text"] for r in rs], "label": [r["label"] for r in rs]})

    src = SOURCES[name]
    raw = dataset_rows(name)
    held_rows = [r for r in raw if r["split"] in src["leak_splits"]]
    train = frame([r for r in raw if r["split"] == "train"], "t")
    held = frame(held_rows, "e")
    line_of = {}
    for r in held_rows:
        line_of.setdefault(r["text"], r["line"])
    _, _, report = dedupe(rows_to_frame([], Example), train, held, params.dedupe)
    verbatim = verbatim_overlap(held.to_dicts(), train.to_dicts())
    kinds = [{n["kind"] for n in item["neighbours"]} for item in report["leaked_eval_items"]]
    return {
        "verbatim": verbatim["n_eval_texts"], "gate_exact_normalized": sum("exact" in k for k in kinds),
        "gate_exact_or_near": sum(bool(k & {"exact", "near"}) for k in kinds),
        # eval texts whose only training neighbours are by meaning (dedupe.eval_leakage: edit or semantic)
        "gate_by_meaning_only": sum(not k & {"exact", "near"} for k in kinds), "gate_by_kind": report["by_kind"],
        "eval_splits": src["leak_splits"],
        "file": src["file"], "eval_lines": [line_of[i["eval_text"]] for i in verbatim["items"]],  # the overlapping eval rows
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=DRAWS)
    ap.add_argument("--datasets", nargs="*", default=list(SOURCES))
    ap.add_argument("--dev", action="store_true", help="score on a dev split carved from the pool, not the test split")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes over (dataset, draw) pairs")
    ap.add_argument("--from-log", default=None, help="aggregate the per-draw lines of an earlier run's output instead of running")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a param on top of the init params, e.g. generate.pseudo_label.student=both (for --dev runs)")
    ap.add_argument("--review", action="store_true",
                    help="a person answers the filter stage's review sample with the pool's true labels (review_decisions)")
    ap.add_argument("--out", default=None, help="default reports/bench/real_data.json (with --review: real_data_reviewed.json)")
    args = ap.parse_args()
    args.out = args.out or str(ROOT / "reports" / "bench" / ("real_data_reviewed.json" if args.review else "real_data.json"))
    overrides = parse_sets(args.set)
    missing = [n for n in args.datasets if not (DATASETS / SOURCES[n]["file"]).exists()]
    if missing:
        print(f"skipped: {', '.join(missing)} not found under {DATASETS}")
        args.datasets = [n for n in args.datasets if n not in missing]
        if not args.datasets:
            return
    params = bench_params(overrides)
    settings = {"generate": params.generate.model_dump(include={"backends", "quotas", "pseudo_label"}), "mix": params.mix.model_dump()}
    result: dict = {"k_per_label": K, "draws": args.draws, "eval": "dev split carved from the pool" if args.dev else "test split",
                    "settings": settings, "params": "as `synthkit init` writes them (init_params)", "overrides": overrides,
                    "students": params.evaluate.students,
                    **({"review": "the filter stage's review sample answered with the pool's true labels (review_decisions)"} if args.review else {})}
    tasks = [(name, d, args.dev, json.dumps(overrides), args.review) for d in range(args.draws) for name in args.datasets]  # datasets interleaved
    t_all = time.perf_counter()
    if args.from_log:  # aggregate the per-draw lines an interrupted run printed (wall_s is then unknown)
        logged = {}
        for line in Path(args.from_log).read_text(encoding="utf-8").splitlines():
            m = re.match(r"^(\w+) draw (\d+): (\{.*\})$", line)
            if m:
                logged[(m.group(1), int(m.group(2)))] = {"wall_s": None, **json.loads(m.group(3))}
        tasks = [t for t in tasks if (t[0], t[1]) in logged]
        done = [logged[(t[0], t[1])] for t in tasks]
    elif args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(run_task, tasks))
    else:
        done = [run_task(t) for t in tasks]
    result["draws_completed"] = {name: sum(t[0] == name for t in tasks) for name in args.datasets}
    result["wall_s_total"] = round(time.perf_counter() - t_all, 1)
    result["jobs"] = args.jobs
    for name in args.datasets:
        runs = [r for t, r in zip(tasks, done) if t[0] == name]
        walls = [r["wall_s"] for r in runs]
        wall = sum(walls) if None not in walls else None  # per-draw wall times summed: the sequential cost of the dataset
        ups = [r["uplift"] for r in runs]
        mean = lambda xs: round(statistics.fmean(xs), 6)  # noqa: E731
        std = lambda xs: round(statistics.pstdev(xs), 6) if len(xs) > 1 else 0.0  # noqa: E731
        result[f"{name}.real_only_macro_f1"] = mean([r["real_only_macro_f1"] for r in runs])
        result[f"{name}.real_only_macro_f1_std"] = std([r["real_only_macro_f1"] for r in runs])
        result[f"{name}.mix_macro_f1"] = mean([r["mix_macro_f1"] for r in runs])
        result[f"{name}.mix_macro_f1_std"] = std([r["mix_macro_f1"] for r in runs])
        result[f"{name}.defaults"] = not overrides and not args.review  # the params synthkit init writes, unchanged, and no person
        result[f"{name}.uplift_mean"] = mean(ups)
        result[f"{name}.uplift_std"] = std(ups)
        for student in params.evaluate.students:
            for key in ("real_only_macro_f1", "mix_macro_f1", "uplift"):
                vals = [r["students"][student][key] for r in runs]
                stem = f"{name}.students.{student}.{key}"
                result[f"{stem}_mean" if key == "uplift" else stem] = mean(vals)
                result[f"{stem}_std"] = std(vals)
        ups_by_student = [result[f"{name}.students.{s}.uplift_mean"] for s in params.evaluate.students]
        result[f"{name}.uplift_sign_agrees"] = len({(u > 0) - (u < 0) for u in ups_by_student}) == 1
        rounds = sorted({k for r in runs for k in r["pseudo_label_accuracy_by_round"]}, key=int)
        result[f"{name}.pseudo_label_accuracy_by_round"] = {
            k: mean([r["pseudo_label_accuracy_by_round"][k]["accuracy"] for r in runs if k in r["pseudo_label_accuracy_by_round"]]) for k in rounds
        }
        for backend in sorted({b for r in runs for b in r["by_backend"]}):
            vals = [r["by_backend"].get(backend, {}).get("uplift_macro_f1", 0.0) for r in runs]
            result[f"{name}.uplift_{backend}_mean"] = mean(vals)
            result[f"{name}.uplift_{backend}_std"] = std(vals)
        result[f"{name}.wall_s"] = round(wall, 1) if wall is not None else None
        if not args.dev:
            leak = leakage(name, params)
            result[f"{name}.leakage_found"] = leak["verbatim"]
            result[f"{name}.leakage_detail"] = leak
        result[f"{name}.runs"] = runs
        print(f"{name}: uplift {result[f'{name}.uplift_mean']:+.4f} +- {result[f'{name}.uplift_std']:.4f}, wall {'unknown (from a log)' if wall is None else f'{wall:.1f} s'}", flush=True)
        for student in params.evaluate.students:
            stem = f"{name}.students.{student}"
            print(f"  {student}: real-only {result[f'{stem}.real_only_macro_f1']:.4f} mix {result[f'{stem}.mix_macro_f1']:.4f} "
                  f"uplift {result[f'{stem}.uplift_mean']:+.4f} +- {result[f'{stem}.uplift_std']:.4f}", flush=True)
    write_json(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
