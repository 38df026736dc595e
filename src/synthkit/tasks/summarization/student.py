"""The summarization student: extractive (logistic regression over sentence features), scored by faithfulness rate
and chrF against the reference (summaries) and answer recall at 1 (QA).
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from synthkit.tasks.base import slice_groups
from synthkit.tasks.facts import new_facts, normalize_space
from synthkit.tasks.summarization.docs import content_words, sentences
from synthkit.tasks.summarization.section import SummarizationSpec


def _sentence_features(sents: list[str]) -> np.ndarray:
    n = len(sents)
    feats = []
    for i, s in enumerate(sents):
        c = content_words(s)
        rest = set().union(*[content_words(x) for j, x in enumerate(sents) if j != i]) if n > 1 else set()
        feats.append([i / max(1, n - 1), float(i == 0), float(i == n - 1), len(s.split()) / 40, len(c & rest) / max(1, len(c)),
                      float(bool(re.search(r"\d", s))), len(re.findall(r"(?<!^)\b[A-Z][a-z]+", s)) / 5])
    return np.asarray(feats, dtype=float)


def _in_reference(s: str, ref_sents: list[str]) -> bool:
    c = content_words(s)
    return any(len(c & content_words(r)) / max(1, len(c | content_words(r))) >= 0.6 for r in ref_sents)


def _qa_features(question: str, s: str, i: int, n: int) -> list[float]:
    q, c = content_words(question), content_words(s)
    ql = question.lower()
    numeric_q = float(bool(re.match(r"(how (many|much|long|soon|often)|what (is|are) the (fee|price|limit|cost|number))", ql)))
    when_q = float(ql.startswith("when") or "what date" in ql or "which day" in ql)
    has_num = float(bool(re.search(r"\d", s)))
    return [len(q & c), len(q & c) / max(1, len(q)), numeric_q * has_num, when_q * has_num, i / max(1, n - 1), len(s.split()) / 40]


class Summarizer:
    """Extractive student: logistic regression scores sentences for summaries and for answering a question from a document."""

    def __init__(self, C: float) -> None:
        self.C, self.k_ratio, self.sum_model, self.qa_model = C, 0.5, None, None

    def fit(self, frame: pl.DataFrame, spec: SummarizationSpec, docs: dict[str, str]) -> "Summarizer":
        X, y, ratios, QX, Qy = [], [], [], [], []
        for text, target, label, doc_id in frame.select("text", "target", "label", "scenario_id").iter_rows():
            if label == spec.qa_label:
                sents = sentences(docs.get(doc_id, ""))
                for i, s in enumerate(sents):
                    QX.append(_qa_features(text, s, i, len(sents)))
                    Qy.append(int(normalize_space(target) in normalize_space(s)))
            else:
                sents, refs = sentences(text), sentences(target)
                X.extend(_sentence_features(sents).tolist())
                y.extend(int(_in_reference(s, refs)) for s in sents)
                ratios.append(len(refs) / max(1, len(sents)))
        if len(set(y)) == 2:
            self.sum_model = LogisticRegression(C=self.C, max_iter=2000).fit(np.asarray(X), np.asarray(y))
            self.k_ratio = float(np.mean(ratios))
        if len(set(Qy)) == 2:
            self.qa_model = LogisticRegression(C=self.C, max_iter=2000).fit(np.asarray(QX), np.asarray(Qy))
        return self

    def summarize(self, text: str) -> str:
        sents = sentences(text)
        k = max(1, min(len(sents), round(self.k_ratio * len(sents))))
        if self.sum_model is None:
            return " ".join(sents[:k])
        p = self.sum_model.predict_proba(_sentence_features(sents))[:, 1]
        best = sorted(np.argsort(-p, kind="stable")[:k].tolist())
        return " ".join(sents[i] for i in best)

    def answer(self, question: str, doc: str) -> str:
        sents = sentences(doc)
        if not sents:
            return ""
        X = np.asarray([_qa_features(question, s, i, len(sents)) for i, s in enumerate(sents)])
        score = self.qa_model.predict_proba(X)[:, 1] if self.qa_model is not None else X[:, 1]
        return sents[int(np.argmax(score))]


def summary_scores(sources: list[str], refs: list[str], preds: list[str]) -> dict:
    """Faithfulness rate (no new number, name or date against the source) and corpus chrF (sacrebleu) against the references."""
    from sacrebleu.metrics import CHRF

    if not refs:
        return {"n": 0, "faithfulness": 0.0, "chrf": 0.0}
    faithful = sum(new_facts(p, s) is None for s, p in zip(sources, preds)) / len(preds)
    return {"n": len(refs), "faithfulness": round(faithful, 6), "chrf": round(CHRF().corpus_score(preds, [refs]).score, 4)}


def qa_scores(docs: list[str], answers: list[str], preds: list[str]) -> dict:
    """Answer recall at 1 (the gold answer is inside the chosen sentence) and faithfulness of the chosen sentences."""
    if not answers:
        return {"n": 0, "answer_recall": 0.0, "faithfulness": 0.0}
    hit = sum(normalize_space(a) in normalize_space(p) for a, p in zip(answers, preds)) / len(answers)
    faithful = sum(bool(p) and new_facts(p, d) is None for d, p in zip(docs, preds)) / len(preds)
    return {"n": len(answers), "answer_recall": round(hit, 6), "faithfulness": round(faithful, 6)}


def student_metrics(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, spec, params, min_slice_size: int, docs: dict[str, str],
             eval_docs: dict[str, str] | None = None) -> tuple[dict, dict]:
    """Summaries: faithfulness + chrF; QA: answer recall at 1 + faithfulness; first-sentences baseline, real-only and mix students."""
    sm: SummarizationSpec = spec.section
    eval_docs = docs if eval_docs is None else eval_docs
    rows = eval_.select("text", "target", "label", "scenario_id", "slices").to_dicts()
    models = {name: Summarizer(params.task.section.C).fit(frame, sm, docs) for name, frame in (("real_only", real), ("mix", train))}
    models = {"lead_baseline": Summarizer(params.task.section.C), **models}
    preds = {name: [m.answer(r["text"], eval_docs.get(r["scenario_id"], "")) if r["label"] == sm.qa_label else m.summarize(r["text"]) for r in rows]
             for name, m in models.items()}
    groups = slice_groups([r["slices"] for r in rows], min_slice_size)

    def score(p: list[str], idx: list[int]) -> dict:
        s_idx = [i for i in idx if rows[i]["label"] != sm.qa_label]
        q_idx = [i for i in idx if rows[i]["label"] == sm.qa_label]
        return {
            "summary": summary_scores([rows[i]["text"] for i in s_idx], [rows[i]["target"] for i in s_idx], [p[i] for i in s_idx]),
            "qa": qa_scores([eval_docs.get(rows[i]["scenario_id"], "") for i in q_idx], [rows[i]["target"] for i in q_idx], [p[i] for i in q_idx]),
        }

    result = {name: {g: score(p, idx) for g, idx in groups.items()} for name, p in preds.items()}
    allr = {name: result[name]["all"] for name in preds}
    metrics = {
        "task": "summarization", "student": "extractive_logreg", "eval_rows": eval_.height,
        "train_rows": {"real_only": real.height, "mix": train.height, "synthetic_in_mix": int((train["source"] == "synthetic").sum())},
        "lead_baseline": allr["lead_baseline"], "real_only": allr["real_only"], "mix": allr["mix"],
        "uplift": {"summary_chrf": round(allr["mix"]["summary"]["chrf"] - allr["real_only"]["summary"]["chrf"], 6),
                   "qa_answer_recall": round(allr["mix"]["qa"]["answer_recall"] - allr["real_only"]["qa"]["answer_recall"], 6)},
        # a slice reports the metric of each sub-task it holds rows of
        "slices": {g: {"n": len(groups[g]),
                       **({f"{m}_summary_chrf": result[m][g]["summary"]["chrf"] for m in ("real_only", "mix")} if result["mix"][g]["summary"]["n"] else {}),
                       **({f"{m}_qa_answer_recall": result[m][g]["qa"]["answer_recall"] for m in ("real_only", "mix")} if result["mix"][g]["qa"]["n"] else {})}
                   for g in groups if g != "all"},
    }
    return metrics, {"slices": result}
