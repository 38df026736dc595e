"""The whole pipeline with a real (weak) model: the bundled example with generate.backend openai against
llama-cpp-python's server with SmolLM2-135M-Instruct (the optional extra local-llm) on this machine.

Runs `dvc repro` in a copy of the repository: generate first (timed), then the rest; then a forced rerun of generate
(every answer from the cache). The baseline, in the same run, is the same copy's pipeline with the offline template
backend (the default). Reports what the generator did (LLM rows, requests, failures, the structured-output mode the
server got, tokens per second), what every gate did with its rows, and real-only vs mix macro-F1 on the protected
eval set for both generators.

Run: .venv/bin/python benchmarks/local_llm.py [--per-scenario 3] [--hard-negatives-per-label 0] [--base-url URL] -> reports/bench/local_llm.json
(needs `make local-llm`'s extra; without --base-url the benchmark starts its own server on a free port).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import polars as pl  # noqa: E402
import yaml  # noqa: E402

from synthkit.io import write_json  # noqa: E402
from synthkit.llm import local  # noqa: E402
from tests.repo_copy import copy_repo, env  # noqa: E402

KEY_ENV = "SYNTHKIT_LOCAL_LLM_KEY"  # the server checks no key; the client needs one
REJECTS = ("generate", "validate", "filter", "dedupe", "mix")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dvc(root: Path, *args: str) -> float:
    """Run a dvc command in root; its wall seconds (a failure stops the benchmark with the command's output)."""
    t0 = time.perf_counter()
    # the copy's own code (not the checkout the environment points at), so edits elsewhere never reach a running benchmark
    res = subprocess.run(["dvc", *args], cwd=root, env={**env(), KEY_ENV: "sk-local", "PYTHONPATH": str(root / "src")},
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed in {root}:\n{(res.stdout + res.stderr)[-3000:]}")
    return time.perf_counter() - t0


def configure(root: Path, **generate) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["generate"].update(generate)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def read(root: Path, rel: str) -> dict:
    return json.loads((root / rel).read_text())


def llm_rejects(root: Path) -> dict[str, dict[str, int]]:
    """Per stage, the reasons the LLM rows (generator.backend openai) were rejected, with counts."""
    out = {}
    for stage in REJECTS:
        frame = pl.read_parquet(root / f"data/rejects/{stage}.parquet")
        frame = frame.filter(pl.col("generator").struct.field("backend") == "openai")
        out[stage] = {r: n for r, n in frame.group_by("reason").len().sort("len", "reason", descending=[True, False]).iter_rows()}
    return out


def scores(root: Path) -> dict:
    m = read(root, "reports/metrics.json")
    return {"real_only_macro_f1": round(m["real_only"]["macro_f1"], 4), "mix_macro_f1": round(m["mix"]["macro_f1"], 4),
            "uplift_macro_f1": round(m["uplift"]["macro_f1"], 4), "synthetic_in_mix": m["train_rows"]["synthetic_in_mix"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default=None, help="a running server (default: start one on a free port)")
    ap.add_argument("--scenarios-per-label", type=int, default=1)
    ap.add_argument("--hard-negatives-per-label", type=int, default=0)
    ap.add_argument("--per-scenario", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench" / "local_llm.json"))
    ap.add_argument("--work", default=None, help="folder for the repository copies (default: a temporary one)")
    args = ap.parse_args()
    load_before = os.getloadavg()
    work = Path(args.work or tempfile.mkdtemp(prefix="synthkit-local-llm-"))
    server, log = None, work / "server.log"
    base_url = args.base_url
    if base_url is None:
        port = free_port()
        with open(log, "w") as fh:
            server = subprocess.Popen(local.serve_command(port), stdout=fh, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}/v1"
        if not local.wait_until_up(base_url, 180):
            server.kill()
            raise SystemExit(f"the local server did not start: {log}")
    try:
        # the real model
        llm_root = copy_repo(work / "llm")
        params = yaml.safe_load((llm_root / "params.yaml").read_text())
        params["llm"].update({"base_url": base_url, "api_key_env": KEY_ENV, "model": "smollm2", "max_concurrency": 1,
                              "timeout_s": 900, "max_retries": 2})
        (llm_root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        generate = {"backend": "openai", "scenarios_per_label": args.scenarios_per_label,
                    "hard_negatives_per_label": args.hard_negatives_per_label, "per_scenario": args.per_scenario,
                    "utterances_per_request": args.per_scenario, "max_tokens": args.max_tokens}
        configure(llm_root, **generate)
        t_generate = dvc(llm_root, "repro", "generate")
        cold = read(llm_root, "reports/counts/generate.json")
        t_rest = dvc(llm_root, "repro")
        dvc(llm_root, "repro", "--force", "--single-item", "generate")
        warm = read(llm_root, "reports/counts/generate.json")
        # the baseline: the offline template generator on the same example, same gates
        base_root = copy_repo(work / "template")
        t_base = dvc(base_root, "repro")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    led = cold["llm"]
    candidates = pl.read_parquet(llm_root / "data/candidates.parquet")
    train = pl.read_parquet(llm_root / "data/train.parquet")
    is_llm = pl.col("generator").struct.field("backend") == "openai"
    funnel = read(llm_root, "reports/funnel.json")
    result = {
        "machine": {"cores": os.cpu_count(), "load_avg_1m_before": round(load_before[0], 2), "load_avg_1m_after": round(os.getloadavg()[0], 2)},
        "server": {"base_url": base_url, "model": str(local.bundled_model().name), "n_ctx": local.N_CTX},
        "generate_params": generate,
        "llm_rows": candidates.filter(is_llm).height,
        "llm_rows_in_train": train.filter(is_llm).height,
        "requests": led["requests"],
        "requests_sent": led["sent"],
        "failed_share": round(led["failed"] / max(led["completed"] + led["failed"], 1), 4),
        "json_mode": led["structured_output"],
        "tokens_per_s": round(led["run_output_tokens"] / t_generate, 2),
        "prompt_tokens_per_s": round(led["run_input_tokens"] / t_generate, 2),
        "generate_wall_s": round(t_generate, 1),
        "rest_of_pipeline_wall_s": round(t_rest, 1),
        "warm_rerun_requests": warm["llm"]["sent"],
        "rejects_by_reason": llm_rejects(llm_root),
        "funnel": {k: funnel[k] for k in ("generated", "generate_rejected", "candidates", "rejected", "synthetic_in_train")},
        "openai": scores(llm_root),
        "template_baseline": {**scores(base_root), "wall_s": round(t_base, 1)},
        "cost": read(llm_root, "reports/cost.json")["budget"],
    }
    result["real_only_macro_f1"] = result["openai"]["real_only_macro_f1"]
    result["mix_macro_f1"] = result["openai"]["mix_macro_f1"]
    write_json(result, args.out)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
