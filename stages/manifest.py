"""DVC stage manifest: the funnel (counts add up at every gate) and the manifest (what built this dataset)."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import json
from pathlib import Path

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.cost import cost_report
from synthkit.dag import code_deps, pipeline_code
from synthkit.io import count_rows, read_parquet, write_csv, write_json
from synthkit.manifest import (
    FUNNEL_STAGES,
    build_manifest,
    code_versions,
    file_md5,
    funnel,
)
from synthkit.prompts import prompt_hashes
from synthkit.spec import load_spec

REPO = Path(__file__).resolve().parents[1]


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    counts = {n: json.loads(Path(f"{args.counts_dir}/{n}.json").read_text()) for n in FUNNEL_STAGES}
    report = funnel(counts)
    write_json(report, args.funnel)
    write_csv(pl.DataFrame([{"order": i, "stage": s["stage"], "kept": s["kept"], "rejected": s["rejected"]} for i, s in enumerate(report["stages"], 1)]),
              f"{args.plots}/funnel.csv")
    train = read_parquet(args.train)
    llm_rows = int((train["generator"].struct.field("backend") == "openai").sum())
    cost = cost_report({n: counts[n]["llm"] for n in ("generate", "filter") if "llm" in counts[n]}, llm_rows, params.llm.budget_usd)
    write_json(cost, args.cost)
    # the code of every stage of this pipeline, and this stage's own: the files dvc.yaml declares as its deps
    code = code_versions(sorted(set(pipeline_code(spec.task.type, REPO)) | set(code_deps(Path(__file__).resolve(), spec.task.type, REPO))), REPO)
    artifacts = {p: {"md5": file_md5(p), "rows": count_rows(p)} for p in sorted(args.artifact)}
    prompts = prompt_hashes(args.prompts, spec.task.type)
    write_json(build_manifest(spec, args.spec, params, report, cost, train, args.train, artifacts, prompts, code), args.manifest)


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "train", "counts-dir", "funnel", "manifest", "plots", "cost", "prompts")
    p.add_argument("--artifact", action="append", required=True)
    stage.run(main, p)
