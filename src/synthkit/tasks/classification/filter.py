"""Classification's filter gates: PII, toxicity, offline critic, LLM critic, consistency with the seeds, human review.

The map-style gates (PII, toxicity) run on the stage's engine (synthkit.engine). The LLM critic (filter.critic.backend
openai) runs after the offline critic checks; the consistency gate asks the seed-trained student
(filter.consistency.student), the seeds nearest by sentence embedding (backend embed_knn) or an LLM (backend openai).
A human accept or relabel overrides the consistency gate's disagreement.
"""

from __future__ import annotations

from functools import partial

import polars as pl

from synthkit.config import ConsistencyParams
from synthkit.cost import CostLedger
from synthkit.gates.base import KEEP, Verdict, map_gate
from synthkit.gates.consistency import consistency_encoder, consistency_verdicts, gate_consistency, gate_consistency_knn
from synthkit.gates.critic import gate_critic
from synthkit.gates.llm_consistency import gate_llm_consistency
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.gates.pii import gate_pii, pii_batch
from synthkit.gates.toxicity import toxicity_batch
from synthkit.review import Decision, gate_review
from synthkit.students import predict_with_confidence, train_student
from synthkit.tasks.base import Gate, TaskContext


def seed_student(seeds: pl.DataFrame, C: float, kind: str = "tfidf_logreg", embedder=None):
    """The named student trained on the real training seeds, or None when they hold fewer than two labels."""
    train = seeds.filter(pl.col("split") == "seed")
    if train["label"].n_unique() < 2:
        return None
    return train_student(train["text"].to_list(), train["label"].to_list(), C=C, kind=kind, embedder=embedder)


def filter_gates(ctx: TaskContext, seeds: pl.DataFrame, decisions: dict[str, Decision], analyzer, engine, ledger: CostLedger) -> list[Gate]:
    """The filter gates in order (human decisions are applied before them by the stage)."""
    params, llm, spec = ctx.params.filter, ctx.params.llm, ctx.spec
    cons = params.consistency
    encoder = consistency_encoder(cons, ctx.embedder) if cons.enabled else None  # a disabled gate loads no encoder
    student = seed_student(seeds, cons.C, cons.student, encoder) if cons.enabled and cons.backend == "student" else None
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()
    reviewed_accept = {k for k, d in decisions.items() if d.decision in ("accept", "relabel")}
    toxicity = partial(toxicity_batch, params=params.toxicity, llm=llm)  # the same function whole or per engine batch
    llm_kw = {"prompts_dir": ctx.prompts_dir, "cache_dir": ctx.llm_cache, "seed": ctx.params.seed, "ledger": ledger, "progress": ctx.progress}

    def pii(frame: pl.DataFrame):
        return map_gate(engine, frame, lambda g: gate_pii(g["text"].to_list(), params.pii, analyzer), partial(pii_batch, params=params.pii))

    def consistency(frame: pl.DataFrame):
        if params.consistency.backend == "openai":
            verdicts = gate_llm_consistency(frame, spec, params.consistency, llm, **llm_kw)
        elif cons.backend == "embed_knn":
            seed_labels = seeds.filter(pl.col("split") == "seed")["label"].to_list()
            verdicts = gate_consistency_knn(frame["text"].to_list(), frame["label"].to_list(), seed_texts, seed_labels, cons, encoder)
        else:
            verdicts = gate_consistency(frame["text"].to_list(), frame["label"].to_list(), student, params.consistency)
        return [KEEP if i in reviewed_accept else v for v, i in zip(verdicts, frame["id"].to_list())]

    return [
        ("pii", pii),
        ("toxicity", lambda f: map_gate(engine, f, toxicity, toxicity)),
        ("critic", lambda f: gate_critic(f, seed_texts, params.critic)),
        ("critic", lambda f: gate_llm_critic(f, spec, params.critic, llm, **llm_kw)),
        ("consistency", consistency),
        ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
    ]


def pool_labels(ctx: TaskContext, seeds: pl.DataFrame, pool: pl.DataFrame) -> tuple[list[str | None], str]:
    """Labels for the unlabeled pool's texts in gate calibration: the seed student's prediction (and how they were given)."""
    cons = ctx.params.filter.consistency
    student = seed_student(seeds, cons.C, cons.student, consistency_encoder(cons, ctx.embedder))
    if student is None or pool.height == 0:
        return [None] * pool.height, "none (fewer than two seed labels)"
    return predict_with_confidence(student, pool["text"].to_list())[0], "the seed student's prediction"


def out_of_fold(seeds: pl.DataFrame, folds: int, params: ConsistencyParams, seed: int, embedder=None) -> dict[str, Verdict]:
    """Each training seed's consistency verdict from a student trained on the other folds (by group)."""
    from synthkit.folds import seed_folds

    train = seeds.filter(pl.col("split") == "seed")
    out: dict[str, Verdict] = {}
    for held in seed_folds(train, folds, seed):
        mask = pl.Series([False] * train.height).scatter(held, True)
        fit, test = train.filter(~mask), train.filter(mask)
        if fit["label"].n_unique() < 2:
            continue
        model = train_student(fit["text"].to_list(), fit["label"].to_list(), C=params.C, kind=params.student, embedder=embedder)
        out.update(zip(test["id"].to_list(), consistency_verdicts(model, test["text"].to_list(), test["label"].to_list(), params), strict=True))
    return out


def real_text_gates(ctx: TaskContext, seeds: pl.DataFrame, analyzer, engine) -> list:
    """The text-judging filter gates as they judge real text (gate calibration): PII, toxicity, the offline critic
    and, for the training seeds only, consistency with a student that did not see the seed (out of fold)."""
    params = ctx.params.filter
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()
    toxicity = partial(toxicity_batch, params=params.toxicity, llm=ctx.params.llm)

    def pii(frame: pl.DataFrame):
        return [KEEP if v.reason is None else v for v in map_gate(engine, frame, lambda g: gate_pii(g["text"].to_list(), params.pii, analyzer),
                                                                    partial(pii_batch, params=params.pii))]

    def consistency(frame: pl.DataFrame):
        if not (params.consistency.enabled and params.consistency.backend == "student"):
            return [None] * frame.height
        oof = out_of_fold(seeds, params.calibration.folds, params.consistency, ctx.params.seed,
                          consistency_encoder(params.consistency, ctx.embedder))
        return [oof.get(i) for i in frame["id"].to_list()]

    return [
        ("pii", pii),
        ("toxicity", lambda f: map_gate(engine, f, toxicity, toxicity)),
        ("critic", lambda f: gate_critic(f, seed_texts, params.critic)),
        ("consistency", consistency),
    ]
