"""Tokens, requests and USD spent through the LLM runtime, per stage, per run and per kept example (reports/cost.json)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass
class CostLedger:
    """What one stage's LLM calls cost.

    requests / input_tokens / output_tokens / cost_usd cover every result the stage used, cached or not (what the
    data cost to make); the run_* and sent/cached figures cover this run only (a warm rerun sends 0 and spends 0).
    """

    requests: int = 0
    sent: int = 0
    cached: int = 0
    retries: int = 0
    failed: int = 0
    not_run: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    run_input_tokens: int = 0
    run_output_tokens: int = 0
    run_cost_usd: float = 0.0
    budget_exhausted: bool = False

    def add(self, results: Iterable, stats) -> None:
        """Account for one run_requests call: its results and its RunStats."""
        for r in results:
            self.requests += 1
            self.input_tokens += r.input_tokens
            self.output_tokens += r.output_tokens
            self.cost_usd += r.cost_usd
            if not r.cached:
                self.run_input_tokens += r.input_tokens
                self.run_output_tokens += r.output_tokens
                self.run_cost_usd += r.cost_usd
        self.sent += stats.requests_sent
        self.cached += stats.cache_hits
        self.retries += stats.retries
        self.failed += stats.failed
        self.not_run += stats.not_run
        self.budget_exhausted = self.budget_exhausted or bool(stats.budget_exhausted)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("cost_usd", "run_cost_usd"):
            d[k] = round(d[k], 6)
        return d


def cost_report(stages: dict[str, dict], kept_examples: int) -> dict:
    """reports/cost.json: per-stage ledgers (from the stages' counts), their totals and the cost per kept synthetic example."""
    total = CostLedger().to_dict()
    for ledger in stages.values():
        for k, v in ledger.items():
            if k in total:
                total[k] = total[k] or v if isinstance(v, bool) else total[k] + v
    for k in ("cost_usd", "run_cost_usd"):
        total[k] = round(total[k], 6)
    per = lambda v: round(v / kept_examples, 8) if kept_examples else 0.0  # noqa: E731
    return {
        "stages": {name: stages[name] for name in sorted(stages)},
        "total": total,
        "kept_examples": kept_examples,
        "per_kept_example": {
            "cost_usd": per(total["cost_usd"]),
            "input_tokens": per(total["input_tokens"]),
            "output_tokens": per(total["output_tokens"]),
        },
        "budget_hit": total["budget_exhausted"],
    }
