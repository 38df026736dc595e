"""The offline summarization generator: extractive, grounded summaries of document passages and QA pairs from the
spec's question patterns.
"""

from __future__ import annotations

import random
import re

import polars as pl

from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.tasks.base import Generated, TaskContext
from synthkit.tasks.summarization.docs import content_words, sentences
from synthkit.tasks.summarization.section import SummarizationSpec
from synthkit.tasks.targets import combined


def extractive_summary(sents: list[str], k: int) -> str:
    """The k sentences with the most frequent content words of the passage (length-normalised), in passage order."""
    freq: dict[str, int] = {}
    for s in sents:
        for w in content_words(s):
            freq[w] = freq.get(w, 0) + 1
    scores = [(sum(freq[w] for w in content_words(s)) / (1 + len(content_words(s))) ** 0.5, -i) for i, s in enumerate(sents)]
    best = sorted(range(len(sents)), key=lambda i: scores[i], reverse=True)[:k]
    return " ".join(sents[i] for i in sorted(best))


def render_candidates(spec, params, seed: int, docs: dict[str, str]) -> pl.DataFrame:
    """Passages (sentence windows) with extractive summaries, and QA pairs from the spec's question patterns, per document."""
    from synthkit.generators.template import template_hash

    sm: SummarizationSpec = spec.section
    patterns = [(re.compile(q.pattern), q) for q in sm.qa]
    rows: dict[str, Example] = {}
    sizes = sorted(set(sm.window_sentences))
    for doc_id, doc in sorted(docs.items()):
        rng = random.Random(f"{seed}:{doc_id}")
        sents = sentences(doc)
        made: list[Example] = []
        for w in sizes:
            family = "short" if w == sizes[0] and len(sizes) > 1 else "long" if w == sizes[-1] and len(sizes) > 1 else "typical"
            for i in range(0, max(0, len(sents) - w + 1)):
                window = sents[i : i + w]
                text, target = " ".join(window), extractive_summary(window, min(sm.summary_sentences, w - 1))
                ex_id = content_id("synthetic", sm.summary_label, doc_id, text, target)
                made.append(Example(id=ex_id, text=text, label=sm.summary_label, target=target, source="synthetic", scenario_id=doc_id,
                                    family=family, channel="pasted_notes", split="candidate",
                                    generator=Generator(backend="template", model="extractive_summary", prompt_hash=template_hash("window", str(w)))))
        for s in sents:
            for pattern, qa in patterns:
                for m in pattern.finditer(s):
                    groups = {k: v.strip() for k, v in m.groupdict().items() if v}
                    groups = {k: v[0].lower() + v[1:] if k.startswith("lc_") else v for k, v in groups.items()}
                    question = qa.question.format(**groups)
                    question = question[0].upper() + question[1:]
                    ex_id = content_id("synthetic", sm.qa_label, doc_id, question, groups["answer"])
                    made.append(Example(id=ex_id, text=question, label=sm.qa_label, target=groups["answer"], source="synthetic", scenario_id=doc_id,
                                        family="typical", channel="chat", split="candidate",
                                        generator=Generator(backend="template", model="qa_patterns", prompt_hash=template_hash(qa.pattern, qa.question))))
        if len(made) > params.per_scenario:
            made = rng.sample(made, params.per_scenario)
        for ex in made:
            rows.setdefault(ex.id, ex)
    return rows_to_frame(rows.values(), Example)


def generate(ctx: TaskContext, seeds: pl.DataFrame, unlabeled: pl.DataFrame | None, decisions) -> Generated:
    """The generate step: summaries and QA pairs of the documents in ctx.docs, rendered offline or by the openai backend."""
    from synthkit.tasks.summarization.docs import load_docs

    docs = load_docs(ctx.docs)
    if ctx.params.generate.backend == "openai":
        from synthkit.tasks.summarization.llm import generate_llm

        out = generate_llm(ctx, docs)
    else:
        out = Generated(render_candidates(ctx.spec, ctx.params.generate, ctx.params.seed, docs))
    out.candidates = combined([out.candidates])
    return out
