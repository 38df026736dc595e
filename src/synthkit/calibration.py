"""Gate calibration on real text: the text-judging filter gates also judge the real seeds and the unlabeled pool.

A gate that rejects more than filter.calibration.max_real_reject of a label's real texts is miscalibrated for that
label: it would strip that label's real-looking candidates and shift the label mix. filter.calibration.action says
what follows: warn (one line on stderr), fail (the stage stops after writing the report) or exempt: a candidate of
that label that the gate rejects for a finding of a kind the gate also found in the label's real texts (finding_kind:
the reason, plus the sub-check, the predicted label or the offensive word where the reason has one) is kept; other
findings still reject (a label whose real texts say "stupid" keeps candidates flagged for "stupid", not for a slur).
The PII gate is never exempted: personal data in a label's real texts is no reason to let it into the training set
(it is still measured, reported and warned about, and `fail` still stops).
Pool texts carry no labels; each is attributed to the label the task type gives it (classification: the seed
student's prediction), or to ALL when the type has none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import polars as pl

from synthkit.config import CalibrationParams
from synthkit.gates.base import KEEP, Verdict

ALL = "*"  # the label of texts with none (task types with targets)
# a gate as it judges real text: one verdict per row, None for a row it does not judge
RealGate = tuple[str, Callable[[pl.DataFrame], list[Verdict | None]]]
NEVER_EXEMPT = frozenset({"pii"})  # governance gates: what real text holds is no licence for candidates
_SUB = re.compile(r"^(?:(\w+):|(predicted=\S+)|(word=\S+))")


def finding_kind(v: Verdict) -> str:
    """What a rejecting verdict found: its reason, plus the sub-check (critic residue), the predicted label
    (consistency) or the word that weighs most in the offensive score (toxicity, offline)."""
    m = _SUB.match(v.detail or "")
    return f"{v.reason}:{m.group(1) or m.group(2) or m.group(3)}" if m else str(v.reason)


def real_texts(
    seeds: pl.DataFrame,
    pool: pl.DataFrame | None,
    pool_labels: list[str | None] | None,
    max_pool: int,
    seed: int,
) -> pl.DataFrame:
    """The real texts to judge: every seed (origin seed) and up to max_pool pool texts (origin pool, a seeded sample),
    each pool text with its attributed label."""
    parts = [seeds.with_columns(pl.lit("seed").alias("origin"))]
    if pool is not None and pool.height:
        p = pool.with_columns(
            pl.Series(
                "label",
                pool_labels if pool_labels is not None else [None] * pool.height,
                dtype=pl.String,
            )
        )
        if p.height > max_pool:
            p = (
                p.with_columns(pl.col("id").hash(seed=seed).alias("_h"))
                .sort("_h", "id")
                .head(max_pool)
                .drop("_h")
            )
        parts.append(p.with_columns(pl.lit("pool").alias("origin")))
    out = pl.concat(parts, how="diagonal_relaxed")
    return out.with_columns(pl.col("label").fill_null(ALL)).sort(
        "origin", "id", descending=[True, False]
    )


def judge_real(
    real: pl.DataFrame, gates: list[RealGate]
) -> dict[str, list[Verdict | None]]:
    """Each gate's verdicts over all real texts (every gate sees every text); gates sharing a name merge, the first
    rejection wins."""
    out: dict[str, list[Verdict | None]] = {}
    for name, fn in gates:
        verdicts = fn(real)
        if len(verdicts) != real.height:
            raise ValueError(
                f"gate {name}: {len(verdicts)} verdicts for {real.height} real texts"
            )
        if name not in out:
            out[name] = list(verdicts)
        else:
            out[name] = [
                a if (a is not None and a.reason) or b is None else b
                for a, b in zip(out[name], verdicts)
            ]
    return out


def _rate(rejected: int, n: int) -> float:
    return round(rejected / n, 6) if n else 0.0


def real_rates(
    real: pl.DataFrame,
    judged: dict[str, list[Verdict | None]],
    params: CalibrationParams,
) -> dict[str, dict[str, dict]]:
    """Per gate and label: real texts judged, rejected and the rate (overall and by origin), the finding kinds and examples."""
    labels, origins, texts = (
        real["label"].to_list(),
        real["origin"].to_list(),
        real["text"].to_list(),
    )
    out: dict[str, dict[str, dict]] = {}
    for gate, verdicts in judged.items():
        per: dict[str, dict] = {}
        for label, origin, text, v in zip(labels, origins, texts, verdicts):
            if v is None:
                continue
            d = per.setdefault(
                label,
                {
                    "texts": 0,
                    "rejected": 0,
                    "seed": {"texts": 0, "rejected": 0},
                    "pool": {"texts": 0, "rejected": 0},
                    "kinds": Counter(),
                    "examples": [],
                },
            )
            d["texts"] += 1
            d[origin]["texts"] += 1
            if v.reason:
                d["rejected"] += 1
                d[origin]["rejected"] += 1
                d["kinds"][finding_kind(v)] += 1
                if len(d["examples"]) < params.examples:
                    d["examples"].append(
                        {
                            "text": text,
                            "origin": origin,
                            "reason": v.reason,
                            "detail": v.detail,
                        }
                    )
        for d in per.values():
            d["rate"] = _rate(d["rejected"], d["texts"])
            for o in ("seed", "pool"):
                d[o]["rate"] = _rate(d[o]["rejected"], d[o]["texts"])
            d["kinds"] = dict(sorted(d["kinds"].items()))
        out[gate] = dict(sorted(per.items()))
    return out


def miscalibrated(
    rates: dict[str, dict[str, dict]], params: CalibrationParams
) -> list[tuple[str, str]]:
    """(gate, label) pairs whose real reject rate exceeds max_real_reject."""
    return [
        (g, lab)
        for g, per in rates.items()
        for lab, d in per.items()
        if d["rejected"] and d["rate"] > params.max_real_reject
    ]


def exempting(
    gates: list,
    rates: dict[str, dict[str, dict]],
    flagged: list[tuple[str, str]],
    exempted: Counter,
) -> list:
    """The filter gates with exemptions: a candidate of a flagged (gate, label) rejected for a finding kind the gate
    also found in that label's real texts is kept (counted in `exempted` per (gate, label)); never the PII gate's."""
    flagged = [(g, lab) for g, lab in flagged if g not in NEVER_EXEMPT]
    kinds = {(g, lab): set(rates[g][lab]["kinds"]) for g, lab in flagged}
    names = {g for g, _ in flagged}

    def wrap(name: str, fn):
        def gate(frame: pl.DataFrame) -> list[Verdict]:
            out = []
            for label, v in zip(frame["label"].fill_null(ALL).to_list(), fn(frame)):
                if v.reason is not None and finding_kind(v) in kinds.get(
                    (name, label), ()
                ):
                    exempted[(name, label)] += 1
                    v = KEEP
                out.append(v)
            return out

        return gate

    return [(name, wrap(name, fn) if name in names else fn) for name, fn in gates]


def candidate_rates(
    candidates: pl.DataFrame, rejects: pl.DataFrame, order: list[str]
) -> dict[str, dict[str, dict]]:
    """Per gate (in the order they ran) and label: candidates that reached the gate, rejected, and the rate."""
    remaining = Counter(candidates["label"].fill_null(ALL).to_list())
    out: dict[str, dict[str, dict]] = {}
    for gate in order:
        part = rejects.filter(pl.col("gate") == gate)
        dropped = Counter(part["label"].fill_null(ALL).to_list())
        out[gate] = {
            lab: {
                "in": n,
                "rejected": dropped.get(lab, 0),
                "rate": _rate(dropped.get(lab, 0), n),
            }
            for lab, n in sorted(remaining.items())
        }
        remaining = remaining - dropped
    return out


def label_shift(
    cand: dict[str, dict[str, dict]], params: CalibrationParams
) -> list[dict]:
    """Gates that reject one label's candidates at more than shift_factor times their mean rate (all candidates they saw)."""
    out = []
    for gate, per in cand.items():
        n_in = sum(d["in"] for d in per.values())
        mean = _rate(sum(d["rejected"] for d in per.values()), n_in)
        for lab, d in per.items():
            if (
                mean > 0
                and d["rejected"] >= params.shift_min_rejects
                and d["rate"] > params.shift_factor * mean
            ):
                out.append(
                    {
                        "gate": gate,
                        "label": lab,
                        "rate": d["rate"],
                        "mean_rate": mean,
                        "factor": round(d["rate"] / mean, 2),
                        "rejected": d["rejected"],
                    }
                )
    return out


def calibration_report(
    rates: dict,
    cand: dict,
    flagged: list[tuple[str, str]],
    exempted: Counter,
    params: CalibrationParams,
    real: pl.DataFrame,
    pool_attribution: str,
) -> dict:
    """reports/gates_calibration.json: per gate and label the real reject rate beside the candidates' rate, and the
    miscalibrated labels with examples."""
    gates = {}
    for gate in sorted(set(rates) | set(cand)):
        labels = sorted(set(rates.get(gate, {})) | set(cand.get(gate, {})))
        per = {}
        for lab in labels:
            r, c = rates.get(gate, {}).get(lab), cand.get(gate, {}).get(lab)
            per[lab] = {
                "real_rate": r["rate"] if r else None,
                "real_texts": r["texts"] if r else 0,
                "real_rejected": r["rejected"] if r else 0,
                "seed_rate": r["seed"]["rate"] if r else None,
                "pool_rate": r["pool"]["rate"] if r else None,
                "candidate_rate": c["rate"] if c else None,
                "candidates": c["in"] if c else 0,
                "candidates_rejected": c["rejected"] if c else 0,
            }
        real_n = sum(d["real_texts"] for d in per.values())
        cand_n = sum(d["candidates"] for d in per.values())
        gates[gate] = {
            "judges_real_text": gate in rates,
            "real_rate": _rate(sum(d["real_rejected"] for d in per.values()), real_n),
            "candidate_rate": _rate(
                sum(d["candidates_rejected"] for d in per.values()), cand_n
            ),
            "labels": per,
        }
    return {
        "max_real_reject": params.max_real_reject,
        "action": params.action,
        "real_texts": {
            "seed": int((real["origin"] == "seed").sum()),
            "pool": int((real["origin"] == "pool").sum()),
            "pool_labels": pool_attribution,
        },
        "gates": gates,
        "miscalibrated": [
            {
                "gate": g,
                "label": lab,
                "real_rate": rates[g][lab]["rate"],
                "real_rejected": rates[g][lab]["rejected"],
                "real_texts": rates[g][lab]["texts"],
                "kinds": rates[g][lab]["kinds"],
                "examples": rates[g][lab]["examples"],
                **(_exemption(g, exempted.get((g, lab), 0)) if params.action == "exempt" else {}),
            }
            for g, lab in flagged
        ],
    }


def _exemption(gate: str, exempted: int) -> dict:
    """What action exempt did for one miscalibrated (gate, label) in the report."""
    if gate in NEVER_EXEMPT:
        return {"exempted_candidates": 0, "not_exempted": "personal data stays out of the training set"}
    return {"exempted_candidates": exempted}


def summary_line(
    flagged: list[tuple[str, str]], rates: dict, params: CalibrationParams
) -> str:
    """One line naming the miscalibrated gates and labels (the first few) and where the report is."""
    items = [
        f"{g} rejects {rates[g][lab]['rate']:.1%} of {lab}'s real texts"
        for g, lab in flagged
    ]
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return (
        f"{len(items)} gate/label pair(s) over filter.calibration.max_real_reject {params.max_real_reject}: "
        f"{'; '.join(items[:5])}{more} (reports/gates_calibration.json names them with examples)"
    )


class Calibration:
    """One filter run's calibration: the gates judged on real text, then the report beside the candidates' rates."""

    def __init__(
        self,
        step,
        ctx,
        seeds: pl.DataFrame,
        pool: pl.DataFrame | None,
        analyzer,
        engine,
    ):
        self.params: CalibrationParams = ctx.params.filter.calibration
        labels, self.attribution = (
            step.pool_labels(ctx, seeds, pool)
            if pool is not None and pool.height
            else ([], "no pool")
        )
        self.real = real_texts(
            seeds, pool, labels, self.params.max_pool, ctx.params.seed
        )
        self.rates = real_rates(
            self.real,
            judge_real(self.real, step.real_text_gates(ctx, seeds, analyzer, engine)),
            self.params,
        )
        self.flagged = miscalibrated(self.rates, self.params)
        self.exempted: Counter = Counter()

    def gates(self, gates: list) -> list:
        """The filter gates, with exemptions when filter.calibration.action is exempt."""
        return (
            exempting(gates, self.rates, self.flagged, self.exempted)
            if self.params.action == "exempt" and self.flagged
            else gates
        )

    def report(
        self, candidates: pl.DataFrame, rejects: pl.DataFrame, order: list[str]
    ) -> tuple[dict, dict]:
        """(reports/gates_calibration.json, the per-label rates and label-mix shifts for the filter counts)."""
        cand = candidate_rates(candidates, rejects, order)
        report = calibration_report(
            self.rates,
            cand,
            self.flagged,
            self.exempted,
            self.params,
            self.real,
            self.attribution,
        )
        shift = label_shift(cand, self.params)
        report["label_shift"] = shift
        by_label = {
            g: {
                lab: {k: d[k] for k in ("in", "rejected", "rate")}
                for lab, d in per.items()
                if d["in"]
            }
            for g, per in cand.items()
        }
        return report, {"by_label": by_label, "label_shift": shift}

    def verdict(self) -> str | None:
        """The one line to print (warn, exempt) or raise on (fail), or None when every gate is calibrated."""
        return (
            summary_line(self.flagged, self.rates, self.params)
            if self.flagged
            else None
        )
