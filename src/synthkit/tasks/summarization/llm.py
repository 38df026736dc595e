"""The `openai` generate backend for summarization: the model summarizes a sentence window of a document and writes QA
pairs with verbatim answers; the grounding gate verifies both."""

from __future__ import annotations

import json
import random

from synthkit.llm.answers import Answer
from synthkit.llm.asks import Ask, Asker
from synthkit.llm.run import require_llm_rows
from synthkit.prompts import Prompt, chain_hash, load_prompt
from synthkit.tasks.base import Generated, TaskContext

PROMPTS = {"summary": {"task_description", "max_sentences", "passage"}, "qa": {"task_description", "count", "document"}}


def load_prompts(prompts_dir) -> dict[str, Prompt]:
    """The type's templates, loaded and variable-checked (an error names the file)."""
    return {name: load_prompt(prompts_dir, "summarization", name, variables) for name, variables in PROMPTS.items()}


class SummaryAnswer(Answer):
    """The answer to summarization/summary.md."""

    summary: str


class QAPair(Answer):
    question: str
    answer: str


class QAAnswer(Answer):
    """The answer to summarization/qa.md."""

    pairs: list[QAPair]


def generate_llm(ctx: TaskContext, docs: dict[str, str]) -> Generated:
    """Candidates (generator.backend openai) and generate rejects: summaries of passages and QA pairs per document."""
    from synthkit.tasks.summarization.docs import sentences

    spec, gen, sm = ctx.spec, ctx.params.generate, ctx.spec.section
    task = spec.task.description or spec.task.name
    prompts = load_prompts(ctx.prompts_dir)
    summary, qa = prompts["summary"], prompts["qa"]
    sizes = sorted(set(sm.window_sentences))
    asks = []
    for doc_id, doc in sorted(docs.items()):
        rng = random.Random(f"{ctx.params.seed}:llm:{doc_id}")
        sents = sentences(doc)
        windows = [(w, i) for w in sizes for i in range(max(0, len(sents) - w + 1))]
        n_summaries = max(1, gen.per_scenario // 2)
        for w, i in sorted(rng.sample(windows, min(n_summaries, len(windows)))):
            family = "short" if w == sizes[0] and len(sizes) > 1 else "long" if w == sizes[-1] and len(sizes) > 1 else "typical"
            passage = " ".join(sents[i : i + w])
            values = {"task_description": task, "max_sentences": min(sm.summary_sentences, max(1, w - 1)), "passage": passage}
            asks.append(Ask(f"summarization:{doc_id}:summary:{w}:{i}", summary.messages(values), SummaryAnswer, sm.summary_label, doc_id,
                            family, "pasted_notes", chain_hash(summary), context=passage))
        values = {"task_description": task, "count": max(1, gen.per_scenario - n_summaries), "document": doc}
        asks.append(Ask(f"summarization:{doc_id}:qa", qa.messages(values), QAAnswer, sm.qa_label, doc_id, "typical", "chat", chain_hash(qa)))
    asker = Asker(ctx.params.llm, ctx.llm_cache, seed=ctx.params.seed, max_tokens=gen.max_tokens, progress=ctx.progress, ledger=ctx.ledger)

    def add(ask: Ask, res, text: str, target: str) -> None:
        asker.add(ask, res, text, (ask.label, ask.scenario_id, ask.family, ask.channel, text, target), target=target)

    for ask, res, obj in asker.answers(asks, "generate summarization"):
        if isinstance(obj, SummaryAnswer):
            text = obj.summary.strip()
            if not text:
                asker.reject(ask, res, "empty_text", "the summary is empty", text=ask.context)
            else:
                add(ask, res, ask.context, text)
            continue
        if not obj.pairs:
            asker.reject(ask, res, "empty_text", "no question in the answer", text=res.text or "")
        for i, pair in enumerate(obj.pairs):
            question, answer = pair.question.strip(), pair.answer.strip()
            if not question or not answer:
                asker.reject(ask, res, "empty_text", f"pair {i} has an empty question or answer", text=question or json.dumps(pair.model_dump()))
            else:
                add(ask, res, question, answer)
    candidates, rejects = asker.take_candidates(), asker.rejects_frame()
    require_llm_rows(candidates, rejects, asker.ledger, ctx.params.llm)
    return Generated(candidates, rejects, asker.ledger, asker.not_run,
                     {"summarization/summary.md": summary.sha256, "summarization/qa.md": qa.sha256})
