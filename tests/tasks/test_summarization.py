"""Summarization and grounded QA: facts, the grounding gate (hard negatives rejected, near misses kept), generator, scores."""

from __future__ import annotations

import polars as pl
import pytest

from synthkit.config import GenerateParams
from synthkit.errors import InputError
from synthkit.schemas import Example, Generator, rows_to_frame
from synthkit.spec import Spec
from synthkit.tasks.facts import dates, new_facts, numbers
from synthkit.tasks.summarization.docs import load_docs, sentences
from synthkit.tasks.summarization.gate import gate_grounding
from synthkit.tasks.summarization.generate import render_candidates
from synthkit.tasks.summarization.section import SummarizationSpec
from synthkit.tasks.summarization.student import Summarizer, qa_scores, summary_scores

SM = SummarizationSpec()
DOC = ("Northwind refunds a subscription charge within 30 days. Refunds are processed within 5 business days of approval. "
       "The returns desk is led by Marta Okonkwo. The warehouse closes on 24 December 2025 for the stock count. "
       "Standard delivery costs €4.95 per order.")


def frame(rows: list[tuple[str, str | None, str, str]]) -> pl.DataFrame:
    return rows_to_frame([Example(id=f"r{i}", text=t, target=g, label=lab, source="synthetic", scenario_id=doc, family="typical",
                                  channel="chat", split="candidate", generator=Generator(backend="test"))
                          for i, (t, g, lab, doc) in enumerate(rows)], Example)


def reasons(rows):
    return [v.reason for v in gate_grounding(frame(rows), SM, {"policy": DOC})]


def test_facts_numbers_names_dates():
    assert [str(x) for x in numbers("costs €1,234.50 and 5 days")] == ["1234.50", "5"]
    assert [d.isoformat() for d, _, _ in dates("on 24 December 2025 or 2025-12-26")] == ["2025-12-24", "2025-12-26"]
    assert new_facts("Refunds take 5 days.", DOC) is None
    assert new_facts("Refunds take 7 days.", DOC) == ("number", "7")
    assert new_facts("The desk is led by Marta Jensen.", DOC) == ("name", "jensen")
    assert new_facts("The warehouse closes in November.", DOC) == ("date", "november")


@pytest.mark.parametrize(
    "row",
    [
        (DOC, "Refunds are processed within 5 business days of approval. Standard delivery costs €4.95 per order.", "summary", "policy"),
        (DOC, "Refunds take 5 business days once approved; the returns desk is run by Marta Okonkwo.", "summary", "policy"),  # paraphrase, same facts
        ("Who leads the returns desk?", "Marta Okonkwo", "qa", "policy"),
        ("When does the warehouse close?", "24  december 2025", "qa", "policy"),  # case and spacing differ
    ],
)
def test_grounded_outputs_are_kept(row):
    assert reasons([row]) == [None]


@pytest.mark.parametrize(
    "row, reason",
    [
        ((DOC, "Refunds are processed within 7 business days.", "summary", "policy"), "grounding_new_number"),
        ((DOC, "Delivery costs €4.50 per order.", "summary", "policy"), "grounding_new_number"),
        ((DOC, "The returns desk is led by Marta Jensen.", "summary", "policy"), "grounding_new_name"),
        ((DOC, "The warehouse closes in January for the count.", "summary", "policy"), "grounding_new_date"),
        ((DOC, DOC + " Thanks.", "summary", "policy"), "grounding_not_shorter"),
        (("Who leads the returns desk?", "Marta Jensen", "qa", "policy"), "grounding_answer_unsupported"),
        (("How long do refunds take?", "within 5 days", "qa", "policy"), "grounding_answer_unsupported"),  # near-miss span, not in the doc
        (("How long do refunds take?", "5 business days", "qa", "missing_doc"), "grounding_unknown_doc"),
        ((DOC, None, "summary", "policy"), "grounding_missing_target"),
    ],
)
def test_ungrounded_outputs_are_rejected(row, reason):
    assert reasons([row]) == [reason]


def test_load_docs_reads_a_folder_and_reports_a_missing_one(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\nFirst sentence here. Second one.\n")
    (tmp_path / "notes.csv").write_text("ignored")
    assert load_docs(tmp_path) == {"a": "First sentence here. Second one."}
    with pytest.raises(InputError, match="docs folder not found"):
        load_docs(tmp_path / "nope")


def _spec() -> Spec:
    return Spec.model_validate({
        "task": {"name": "x", "type": "summarization"},
        "labels": [{"name": "summary", "definition": "Summarize a passage."}, {"name": "qa", "definition": "Answer from the document."}],
        "summarization": {"window_sentences": [2, 3], "summary_sentences": 1, "qa": [
            {"pattern": r"^(?P<lc_thing>[A-Z][a-z]+) are processed within (?P<answer>\d+ business days)", "question": "how long until {lc_thing} are processed?"},
            {"pattern": r"^The (?P<thing>[a-z ]+) is led by (?P<answer>[A-Z][a-z]+ [A-Z][a-z]+)", "question": "who leads the {thing}?"}]},
    })


def test_generated_summaries_and_answers_are_grounded():
    spec = _spec()
    df = render_candidates(spec, GenerateParams(per_scenario=100), seed=1, docs={"policy": DOC})
    qa = df.filter(pl.col("label") == "qa")
    assert sorted(zip(qa["text"], qa["target"])) == [("How long until refunds are processed?", "5 business days"),
                                                      ("Who leads the returns desk?", "Marta Okonkwo")]
    assert df.filter(pl.col("label") == "summary").height == 4 + 3
    assert {v.reason for v in gate_grounding(df, spec.section, {"policy": DOC})} == {None}


def test_scores_on_known_inputs():
    s = summary_scores(["A has 5 items. B is here."] * 2, ["A has 5 items."] * 2, ["A has 5 items.", "A has 6 items."])
    assert s["faithfulness"] == 0.5 and 0 < s["chrf"] < 100
    q = qa_scores([DOC, DOC], ["Marta Okonkwo", "5 business days"], ["The returns desk is led by Marta Okonkwo.", "Standard delivery costs €4.95 per order."])
    assert q == {"n": 2, "answer_recall": 0.5, "faithfulness": 1.0}


def test_student_picks_sentences_and_answers():
    spec = _spec()
    train = render_candidates(spec, GenerateParams(per_scenario=100), seed=1, docs={"policy": DOC})
    model = Summarizer(C=1.0).fit(train, spec.section, {"policy": DOC})
    assert model.answer("Who leads the returns desk?", DOC) == "The returns desk is led by Marta Okonkwo."
    passage = " ".join(sentences(DOC)[:3])
    summary = model.summarize(passage)
    assert summary and set(sentences(summary)) <= set(sentences(passage)) and len(summary) < len(passage)
