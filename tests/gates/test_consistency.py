from synthkit.config import ConsistencyParams
from synthkit.gates.consistency import gate_consistency
from synthkit.student import train_student

REFUND = ["i want my money back", "refund the double charge", "please refund my last payment", "give me a refund for the charge"]
LOGIN = ["i cannot sign in", "password reset email never arrives", "login fails with my password", "can't log into my account"]


def _student():
    return train_student(REFUND + LOGIN, ["refund"] * 4 + ["login"] * 4, C=10.0)


def test_confident_disagreement_rejects_and_agreement_keeps():
    texts = ["refund my money for the charge", "password reset email not arriving, cannot sign in"]
    verdicts = gate_consistency(texts, ["login", "login"], _student(), ConsistencyParams(min_confidence=0.5))
    assert verdicts[0].reason == "consistency_disagree" and "predicted=refund" in verdicts[0].detail
    assert verdicts[1].reason is None


def test_unsure_disagreement_is_kept():
    texts = ["refund my money for the charge"]
    assert gate_consistency(texts, ["login"], _student(), ConsistencyParams(min_confidence=0.999))[0].reason is None


def test_disabled_or_no_student_keeps_all():
    assert [v.reason for v in gate_consistency(["x"], ["login"], None, ConsistencyParams())] == [None]
    assert gate_consistency(["x"], ["login"], _student(), ConsistencyParams(enabled=False))[0].reason is None
    assert gate_consistency([], [], _student(), ConsistencyParams()) == []


def test_student_can_be_the_embedding_student():
    from synthkit.tasks.classification.filter import seed_student
    from tests.conftest import make_rows

    seeds = make_rows([(t, "refund") for t in REFUND] + [(t, "login") for t in LOGIN], source="real", split="seed")
    student = seed_student(seeds, 10.0, "both")
    assert student.named_steps["features"].transform(["x"]).shape[1] > 256
    verdicts = gate_consistency(["refund my money for the charge"], ["login"], student, ConsistencyParams(min_confidence=0.5))
    assert verdicts[0].reason == "consistency_disagree"


def test_nearest_seeds_vote_rejects_a_clear_mislabel_and_keeps_the_rest():
    from synthkit.gates.consistency import gate_consistency_knn

    params = ConsistencyParams(backend="embed_knn", knn_k=3, knn_min_share=0.6)
    texts = ["please refund the double charge on my card", "i cannot sign in, the password reset never arrives"]
    verdicts = gate_consistency_knn(texts, ["login", "login"], REFUND + LOGIN, ["refund"] * 4 + ["login"] * 4, params)
    assert verdicts[0].reason == "consistency_knn_disagree" and "neighbours=refund" in verdicts[0].detail
    assert verdicts[1].reason is None
    # an unsure vote (2 of 3 < 0.9) keeps the row
    strict = params.model_copy(update={"knn_min_share": 0.9, "knn_k": 3})
    mixed = gate_consistency_knn(["refund my money, i also cannot sign in"], ["login"], REFUND[:2] + LOGIN[:1],
                                 ["refund", "refund", "login"], strict)
    assert mixed[0].reason is None


def test_nearest_seeds_vote_keeps_everything_when_disabled_or_without_two_labels():
    from synthkit.gates.consistency import gate_consistency_knn

    params = ConsistencyParams(backend="embed_knn")
    assert gate_consistency_knn(["x"], ["a"], REFUND, ["refund"] * 4, params)[0].reason is None
    assert gate_consistency_knn(["x"], ["a"], REFUND + LOGIN, ["refund"] * 4 + ["login"] * 4,
                                params.model_copy(update={"enabled": False}))[0].reason is None


def test_plausible_top_scales_with_the_label_count():
    from synthkit.gates.consistency import plausible_top

    assert [plausible_top(n, 0.04) for n in (2, 7, 25, 26, 77, 150)] == [1, 1, 1, 2, 4, 6]
    assert plausible_top(150, 0.0) == 1


def test_a_label_the_student_ranks_among_its_top_is_kept_and_a_far_one_rejected():
    status = ["where is my refund", "has my refund been processed", "refund status please", "when will the refund arrive"]
    student = train_student(REFUND + status + LOGIN, ["refund"] * 4 + ["refund_status"] * 4 + ["login"] * 4, C=10.0)
    text = ["please refund the double charge"]
    proba = dict(zip(student.classes_, student.predict_proba(text)[0], strict=True))
    assert proba["refund"] > proba["refund_status"] > proba["login"] and proba["refund"] >= 0.4
    strict, lenient = ConsistencyParams(min_confidence=0.4, plausible_share=0.0), ConsistencyParams(min_confidence=0.4, plausible_share=0.5)
    assert gate_consistency(text, ["refund_status"], student, strict)[0].reason == "consistency_disagree"
    assert gate_consistency(text, ["refund_status"], student, lenient)[0].reason is None  # 2nd of the top ceil(0.5 x 3) = 2
    far = gate_consistency(text, ["login"], student, lenient)[0]
    assert far.reason == "consistency_disagree" and "predicted=refund" in far.detail and "rank=3" in far.detail
    assert gate_consistency(text, ["unknown_label"], student, lenient)[0].reason == "consistency_disagree"


def test_the_gate_reads_minilm_unless_told_otherwise():
    from synthkit.embeddings import Embedder
    from synthkit.gates.consistency import consistency_encoder
    from synthkit.minilm import MiniLM

    own = Embedder(None)
    assert ConsistencyParams().student == "embed_logreg" and ConsistencyParams().encoder == "minilm"
    assert isinstance(consistency_encoder(ConsistencyParams(), own), MiniLM)
    assert isinstance(consistency_encoder(ConsistencyParams(backend="embed_knn"), own), MiniLM)
    assert consistency_encoder(ConsistencyParams(encoder="wordllama"), own) is own
    # a gate that reads no embedding loads no encoder
    assert consistency_encoder(ConsistencyParams(student="tfidf_logreg"), own) is own
    assert consistency_encoder(ConsistencyParams(backend="openai"), None) is None


def test_the_default_student_relabels_by_meaning_over_minilm():
    from synthkit.gates.consistency import consistency_encoder
    from synthkit.minilm import DIM
    from synthkit.tasks.classification.filter import seed_student
    from tests.conftest import make_rows

    params = ConsistencyParams()
    seeds = make_rows([(t, "refund") for t in REFUND] + [(t, "login") for t in LOGIN], source="real", split="seed")
    student = seed_student(seeds, params.C, params.student, consistency_encoder(params))
    assert student.named_steps["features"].transform(["x"]).shape[1] == DIM
    # paraphrases sharing no word with any seed: the label the text means is kept, the other rejected
    texts = ["I'd like to get reimbursed for that purchase", "the site won't accept my credentials"]
    kept = gate_consistency(texts, ["refund", "login"], student, params)
    swapped = gate_consistency(texts, ["login", "refund"], student, params.model_copy(update={"min_confidence": 0.0}))
    assert [v.reason for v in kept] == [None, None]
    assert [v.reason for v in swapped] == ["consistency_disagree"] * 2


def test_a_disabled_gate_loads_no_encoder(monkeypatch):
    from synthkit.config import Params
    from synthkit.cost import CostLedger
    from synthkit.engine import LocalEngine
    from synthkit import minilm
    from synthkit.tasks.base import TaskContext
    from synthkit.tasks.classification.filter import filter_gates
    from tests.conftest import make_rows

    loads = []
    monkeypatch.setattr(minilm, "shared_minilm", lambda: loads.append(1))
    seeds = make_rows([(t, "refund") for t in REFUND] + [(t, "login") for t in LOGIN], source="real", split="seed")
    off = Params.model_validate({"filter": {"consistency": {"enabled": False}}})
    filter_gates(TaskContext(None, off, progress=False), seeds, {}, None, LocalEngine(), CostLedger())
    assert loads == []
    filter_gates(TaskContext(None, Params(), progress=False), seeds, {}, None, LocalEngine(), CostLedger())
    assert loads == [1]
