"""Tokens, requests and USD spent through the LLM runtime, per stage, per run and per kept LLM row (reports/cost.json)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

# what a ledger holds for the run it belongs to, not what it reports
RUN_FIELDS = ("spent_before", "run_file", "stage", "negotiated")


@dataclass
class CostLedger:
    """What one stage's LLM calls cost.

    requests / input_tokens / output_tokens / cost_usd cover every result the stage used, cached or not (what the
    data cost to make); the run_* and sent/cached/completed/failed figures cover this run only (a warm rerun sends 0
    and spends 0). not_run counts requests the budget stopped, those never built because of it included.
    structured_output: server and model -> the structured-output mode(s) the stage's answers came in.
    spent_before: what earlier stages of the same pipeline run spent (synthkit.llm.run); it counts toward the budget.
    """

    requests: int = 0
    sent: int = 0
    cached: int = 0
    completed: int = 0
    retries: int = 0
    failed: int = 0
    aborted: int = 0
    not_run: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    run_input_tokens: int = 0
    run_output_tokens: int = 0
    run_cost_usd: float = 0.0
    budget_exhausted: bool = False
    first_failure: str = ""
    structured_output: dict[str, str] = field(default_factory=dict)
    spent_before: float = 0.0
    run_file: str | None = None
    stage: str = ""
    negotiated: dict[str, str] = field(default_factory=dict)

    def add(self, results: Iterable, stats, server: str | None = None) -> None:
        """Account for one run_requests call: its results and its RunStats (server: the base_url they came from)."""
        modes: dict[str, set[str]] = {}
        for r in results:
            self.requests += 1
            self.input_tokens += r.input_tokens
            self.output_tokens += r.output_tokens
            self.cost_usd += r.cost_usd
            if not r.cached:
                self.run_input_tokens += r.input_tokens
                self.run_output_tokens += r.output_tokens
                self.run_cost_usd += r.cost_usd
            if getattr(r, "mode", None):
                modes.setdefault(f"{server} {r.model}" if server else r.model, set()).add(r.mode)
        for key, found in modes.items():
            self.structured_output[key] = "+".join(sorted(found | set(filter(None, self.structured_output.get(key, "").split("+")))))
        self.sent += stats.requests_sent
        self.cached += stats.cache_hits
        self.completed += stats.completed
        self.retries += stats.retries
        self.failed += stats.failed
        self.aborted += getattr(stats, "aborted", 0)
        self.not_run += stats.not_run
        self.budget_exhausted = self.budget_exhausted or bool(stats.budget_exhausted)
        self.first_failure = self.first_failure or getattr(stats, "first_failure", "")

    def spent(self) -> float:
        """What the pipeline run has spent so far: earlier stages and this one."""
        return self.spent_before + self.run_cost_usd

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in RUN_FIELDS}
        for k in ("cost_usd", "run_cost_usd"):
            d[k] = round(d[k], 6)
        d["structured_output"] = dict(sorted(d["structured_output"].items()))
        return d


def cost_report(stages: dict[str, dict], kept_llm_rows: int, budget_usd: float | None = None) -> dict:
    """reports/cost.json: per-stage ledgers (from the stages' counts), their totals, the budget against what the
    stages' latest runs spent, the structured-output mode per server and model, and the cost per kept LLM row (rows
    an LLM generated that made it into the training set; template and seed-variation rows cost nothing)."""
    total = CostLedger().to_dict()
    modes: dict[str, set[str]] = {}
    for ledger in stages.values():
        for k, v in ledger.items():
            if k == "structured_output":
                for key, mode in v.items():
                    modes.setdefault(key, set()).update(mode.split("+"))
            elif k == "first_failure":
                total[k] = total[k] or v
            elif k in total:
                total[k] = total[k] or v if isinstance(v, bool) else total[k] + v
    total["structured_output"] = {key: "+".join(sorted(m)) for key, m in sorted(modes.items())}
    for k in ("cost_usd", "run_cost_usd"):
        total[k] = round(total[k], 6)
    per = lambda v: round(v / kept_llm_rows, 8) if kept_llm_rows else 0.0  # noqa: E731
    return {
        "stages": {name: stages[name] for name in sorted(stages)},
        "total": total,
        "budget": {"budget_usd": budget_usd, "spent_usd": total["run_cost_usd"], "not_run": total["not_run"],
                   "exhausted": total["budget_exhausted"]},
        "structured_output": total["structured_output"],
        "kept_llm_rows": kept_llm_rows,
        "per_kept_llm_row": {
            "cost_usd": per(total["cost_usd"]),
            "input_tokens": per(total["input_tokens"]),
            "output_tokens": per(total["output_tokens"]),
        },
        "budget_hit": total["budget_exhausted"],
    }
