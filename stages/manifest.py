"""DVC stage manifest: the funnel (counts add up at every gate) and the manifest (what built this dataset)."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import json
from pathlib import Path

from synthkit import stage
from synthkit.config import load_params
import polars as pl

from synthkit.cost import cost_report
from synthkit.io import count_rows, read_parquet, write_csv, write_json
from synthkit.manifest import FUNNEL_STAGES, code_versions, file_md5, funnel, package_versions
from synthkit.prompts import prompt_hashes
from synthkit.spec import load_spec


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    counts = {n: json.loads(Path(f"{args.counts_dir}/{n}.json").read_text()) for n in FUNNEL_STAGES}
    report = funnel(counts)
    write_json(report, args.funnel)
    write_csv(pl.DataFrame([{"order": i, "stage": s["stage"], "kept": s["kept"], "rejected": s["rejected"]} for i, s in enumerate(report["stages"], 1)]), f"{args.plots}/funnel.csv")
    artifacts = {p: {"md5": file_md5(p), "rows": count_rows(p)} for p in sorted(args.artifact)}
    train = read_parquet(args.train)
    templates = sorted({g["prompt_hash"] for g in train["generator"].to_list() if g["prompt_hash"]})
    cost = cost_report({n: counts[n]["llm"] for n in ("generate", "filter") if "llm" in counts[n]}, report["synthetic_in_train"])
    if args.cost:
        write_json(cost, args.cost)
    write_json(
        {
            "dataset_id": file_md5(args.train)[:16],
            "task": {"name": spec.task.name, "type": spec.task.type, "labels": spec.label_names, "spec_md5": file_md5(args.spec)},
            "generator": {
                "settings": params.generate.model_dump(), "seed": params.seed, "template_hashes_in_train": templates,
                "prompts": prompt_hashes(args.prompts) if args.prompts else {}, "llm": params.llm.model_dump(),
            },
            "filters": {"params": params.filter.model_dump(), "validate": params.validate_.model_dump()},
            "dedupe": params.dedupe.model_dump(),
            "mixing": params.mix.model_dump(),
            "versions": package_versions(["synthkit", "presidio-analyzer", "spacy", "alt-profanity-check", "scikit-learn", "sklearn-crfsuite", "sacrebleu", "datasketch", "polars", "duckdb", "pydantic", "openai", "dvc"]),
            "code": code_versions(["src/synthkit", "stages"], base=Path(__file__).resolve().parents[1]),
            "artifacts": artifacts,
            "counts": {"candidates": report["candidates"], "rejected": report["rejected"], "train_rows": train.height, "synthetic_in_train": report["synthetic_in_train"]},
            "cost": {
                "requests": cost["total"]["requests"], "input_tokens": cost["total"]["input_tokens"],
                "output_tokens": cost["total"]["output_tokens"], "usd": cost["total"]["cost_usd"],
            },
        },
        args.manifest,
    )


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "train", "counts-dir", "funnel", "manifest", "plots")
    p.add_argument("--artifact", action="append", required=True)
    p.add_argument("--cost", default=None)
    p.add_argument("--prompts", default=None)
    stage.run(main, p)
