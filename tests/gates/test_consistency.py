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
