"""Gate calibration on real text: a gate that rejects a label's real seeds is reported, and the filter stage warns,
stops or exempts that label's candidates as filter.calibration.action says; the funnel flags label-mix shifts."""

from __future__ import annotations

import json
from collections import Counter

import polars as pl
import pytest
import yaml

from synthkit.calibration import (
    candidate_rates,
    exempting,
    finding_kind,
    judge_real,
    label_shift,
    miscalibrated,
    real_rates,
    real_texts,
)
from synthkit.config import CalibrationParams, Params
from synthkit.gates.base import KEEP, Verdict
from tests.conftest import TINY_SPEC, make_rows
from tests.repo_copy import REPO, run

RUDE = [
    "refund this stupid charge you idiots",
    "give my damn money back you morons",
    "you idiots charged me twice, refund it",
]
REFUND = [
    "I was charged twice, please refund one",
    "refund my last payment please",
    "I want my money back for the Pro plan",
    "please reverse the duplicate charge",
    "the charge on the 3rd was a mistake, refund it",
    "money back for the annual plan please",
    "can I get a refund for last month",
    "refund the double payment",
]
CANCEL = [
    "please cancel my plan before it renews",
    "stop my subscription from renewing",
    "cancel the Pro plan at the end of the month",
    "I want to end my subscription",
    "do not renew my plan",
    "turn off auto renewal",
    "cancel my account plan now",
    "end the basic plan",
]
LOGIN = [
    "the password reset email never arrives",
    "I can't sign in since Monday",
    "login link is broken",
    "my password does not work",
    "locked out of my account",
    "two factor code never comes",
    "cannot log in on the app",
    "sign in keeps failing",
]


def _seeds(rude: list[str]) -> pl.DataFrame:
    items = (
        [(t, "refund_request") for t in REFUND + rude]
        + [(t, "cancel_subscription") for t in CANCEL]
        + [(t, "login_problem") for t in LOGIN]
    )
    return make_rows(items, source="real", split="seed")


def _toxicity_gate(frame: pl.DataFrame) -> list[Verdict]:
    from synthkit.config import ToxicityParams
    from synthkit.gates.toxicity import gate_toxicity

    return gate_toxicity(frame["text"].to_list(), ToxicityParams())


def test_finding_kind_names_the_sub_check_or_the_predicted_label():
    assert (
        finding_kind(Verdict("toxicity_offensive", "p=0.990")) == "toxicity_offensive"
    )
    assert (
        finding_kind(Verdict("critic_template_residue", "doubled_word:order order"))
        == "critic_template_residue:doubled_word"
    )
    assert (
        finding_kind(Verdict("consistency_disagree", "predicted=b p=0.700"))
        == "consistency_disagree:predicted=b"
    )
    assert (
        finding_kind(Verdict("toxicity_offensive", "word=stupid p=0.875"))
        == "toxicity_offensive:word=stupid"
    )
    assert (
        finding_kind(Verdict("critic_length_outlier", "words=60 allowed=1-40"))
        == "critic_length_outlier"
    )


def test_real_rates_per_label_and_origin_and_the_miscalibrated_labels():
    seeds = _seeds(RUDE)
    pool = make_rows(
        [("you stupid idiots, cancel it", "x"), ("cancel my plan", "x")],
        source="real",
        split="unlabeled",
    )
    real = real_texts(
        seeds, pool, ["cancel_subscription", "cancel_subscription"], max_pool=10, seed=1
    )
    assert set(real["origin"]) == {"seed", "pool"} and real.height == seeds.height + 2
    rates = real_rates(
        real,
        judge_real(real, [("toxicity", _toxicity_gate)]),
        CalibrationParams(examples=2),
    )
    refund, cancel = (
        rates["toxicity"]["refund_request"],
        rates["toxicity"]["cancel_subscription"],
    )
    assert (refund["rejected"], refund["texts"], refund["seed"]["rejected"]) == (
        3,
        11,
        3,
    )
    assert len(refund["examples"]) == 2 and refund["kinds"] == {
        "toxicity_offensive:word=idiots": 2,
        "toxicity_offensive:word=morons": 1,
    }
    assert (
        cancel["pool"]["rejected"],
        cancel["pool"]["texts"],
        cancel["rejected"],
    ) == (1, 2, 1)
    assert rates["toxicity"]["login_problem"]["rejected"] == 0
    flagged = miscalibrated(rates, CalibrationParams(max_real_reject=0.2))
    assert flagged == [("toxicity", "refund_request")]  # 3/11 > 0.2; cancel 1/10 is not
    assert len(miscalibrated(rates, CalibrationParams(max_real_reject=0.02))) == 2
    assert (
        real_texts(seeds, pool, ["a", "b"], max_pool=1, seed=1)
        .filter(pl.col("origin") == "pool")
        .height
        == 1
    )


def test_exempt_keeps_only_the_flagged_labels_candidates_for_the_kinds_seen_in_real_text():
    rates = {"critic": {"a": {"kinds": {"critic_template_residue:doubled_word": 2}}}}
    exempted: Counter = Counter()

    def critic(frame):
        return [
            Verdict("critic_template_residue", "doubled_word:x x")
            if "x x" in t
            else Verdict("critic_boilerplate", "as an ai")
            if "ai" in t
            else KEEP
            for t in frame["text"]
        ]

    ((name, gate),) = exempting(
        [("critic", critic)], rates, [("critic", "a")], exempted
    )
    frame = pl.DataFrame(
        {
            "text": ["x x one", "x x two", "as an ai", "fine"],
            "label": ["a", "b", "a", "a"],
        }
    )
    assert [v.reason for v in gate(frame)] == [
        None,
        "critic_template_residue",
        "critic_boilerplate",
        None,
    ]
    assert exempted == Counter(
        {("critic", "a"): 1}
    )  # label b's doubled word and label a's other finding still reject


def test_exempt_keeps_a_toxicity_finding_only_for_the_word_the_labels_real_texts_were_flagged_for():
    seeds = _seeds(["how do I get my card out of the stupid machine", "this stupid app lost my refund"])
    real = real_texts(seeds, None, None, max_pool=0, seed=1)
    rates = real_rates(real, judge_real(real, [("toxicity", _toxicity_gate)]), CalibrationParams())
    assert rates["toxicity"]["refund_request"]["kinds"] == {"toxicity_offensive:word=stupid": 2}
    exempted: Counter = Counter()
    ((_, gate),) = exempting([("toxicity", _toxicity_gate)], rates, [("toxicity", "refund_request")], exempted)
    frame = pl.DataFrame(
        {
            "text": ["refund this stupid fee", "refund it you fucking morons", "cancel this stupid plan"],
            "label": ["refund_request", "refund_request", "cancel_subscription"],
        }
    )
    # the label's own word is kept; another word in the same label, and the same word in another label, still reject
    assert [v.reason for v in gate(frame)] == [None, "toxicity_offensive", "toxicity_offensive"]
    assert exempted == Counter({("toxicity", "refund_request"): 1})


def test_exempt_never_lets_the_pii_gates_findings_through_even_when_real_texts_hold_them():
    rates = {
        "pii": {"a": {"kinds": {"pii_person": 3}}},
        "critic": {"a": {"kinds": {"critic_boilerplate": 2}}},
    }
    exempted: Counter = Counter()

    def pii(frame):
        return [Verdict("pii_person", "PERSON") if "bob" in t else KEEP for t in frame["text"]]

    def critic(frame):
        return [Verdict("critic_boilerplate", "as an ai") if "ai" in t else KEEP for t in frame["text"]]

    gates = dict(
        exempting(
            [("pii", pii), ("critic", critic)],
            rates,
            [("pii", "a"), ("critic", "a")],
            exempted,
        )
    )
    frame = pl.DataFrame({"text": ["call bob", "as an ai"], "label": ["a", "a"]})
    assert [v.reason for v in gates["pii"](frame)] == ["pii_person", None]
    assert [v.reason for v in gates["critic"](frame)] == [None, None]
    assert exempted == Counter({("critic", "a"): 1})


def test_candidate_rates_follow_the_gate_order_and_flag_a_label_mix_shift():
    cands = pl.DataFrame({"label": ["a"] * 10 + ["b"] * 10 + ["c"] * 10})
    rejects = pl.DataFrame(
        {"gate": ["toxicity"] * 6 + ["critic"], "label": ["a"] * 5 + ["b"] + ["a"]}
    )
    rates = candidate_rates(cands, rejects, ["toxicity", "critic"])
    assert rates["toxicity"]["a"] == {"in": 10, "rejected": 5, "rate": 0.5}
    assert rates["critic"]["a"] == {
        "in": 5,
        "rejected": 1,
        "rate": 0.2,
    }  # only what toxicity kept reaches the critic
    shift = label_shift(rates, CalibrationParams(shift_factor=2.0, shift_min_rejects=3))
    assert [(s["gate"], s["label"]) for s in shift] == [
        ("toxicity", "a")
    ]  # 0.5 > 2 x 6/30; b has one reject only


# ------------------------------------------------------------------------------------------------ the filter stage


def _stage(tmp_path, action: str, rude: list[str]):
    params = Params().model_dump(by_alias=True, mode="json")
    params["filter"]["pii"]["enabled"] = False
    params["filter"]["consistency"]["enabled"] = False
    params["filter"]["calibration"].update({"action": action, "max_real_reject": 0.1})
    params["filter"]["review"]["fraction"] = 0.0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(TINY_SPEC))
    _seeds(rude).write_parquet(tmp_path / "seeds.parquet")
    make_rows([("cancel it", "x")], source="real", split="unlabeled").head(
        0
    ).write_parquet(tmp_path / "pool.parquet")
    cands = make_rows(
        [
            ("refund me now you stupid idiots", "refund_request"),
            ("you morons, my money back", "refund_request"),
            ("cancel it you stupid idiots", "cancel_subscription"),
            ("please refund the extra charge", "refund_request"),
            ("stop the renewal please", "cancel_subscription"),
            ("reset link never came", "login_problem"),
        ]
    )
    cands.write_parquet(tmp_path / "validated.parquet")
    (tmp_path / "decisions.csv").write_text("id,decision,new_label,note\n")
    args = [
        "python",
        str(REPO / "stages/filter.py"),
        "--params",
        "params.yaml",
        "--spec",
        "spec.yaml",
        "--validated",
        "validated.parquet",
        "--seeds",
        "seeds.parquet",
        "--unlabeled",
        "pool.parquet",
        "--decisions",
        "decisions.csv",
        "--prompts",
        str(REPO / "prompts"),
        "--llm-cache",
        "cache",
        "--out",
        "filtered.parquet",
        "--rejects",
        "rejects.parquet",
        "--review-dir",
        "review",
        "--counts",
        "counts.json",
        "--calibration",
        "calibration.json",
    ]
    return run(args, cwd=tmp_path, check=False)


def _messages(res) -> list[str]:
    """The stage's stderr lines besides its one progress summary line ("filter: ...")."""
    return [
        x for x in res.stderr.splitlines() if x.strip() and not x.startswith("filter: ")
    ]


@pytest.mark.parametrize("action", ["warn", "fail", "exempt"])
def test_filter_stage_warns_stops_or_exempts_when_a_gate_rejects_a_labels_real_seeds(
    tmp_path, action
):
    res = _stage(tmp_path, action, RUDE)
    report = json.loads((tmp_path / "calibration.json").read_text())
    (flag,) = report["miscalibrated"]
    assert (flag["gate"], flag["label"], flag["real_rejected"]) == (
        "toxicity",
        "refund_request",
        3,
    ) and flag["examples"]
    labels = report["gates"]["toxicity"]["labels"]
    assert (
        labels["refund_request"]["real_rate"] == round(3 / 11, 6)
        and labels["cancel_subscription"]["real_rate"] == 0.0
    )
    lines = _messages(res)
    assert len(lines) == 1 and "refund_request" in lines[0]
    if action == "fail":
        assert res.returncode == 2 and not (tmp_path / "filtered.parquet").exists()
        return
    assert res.returncode == 0, res.stderr
    kept = pl.read_parquet(tmp_path / "filtered.parquet")
    rejected = pl.read_parquet(tmp_path / "rejects.parquet")
    assert (
        "cancel it you stupid idiots" in rejected["text"].to_list()
    )  # the other label's real texts are clean: still rejected
    rude_refunds = {"refund me now you stupid idiots", "you morons, my money back"}
    if action == "warn":
        assert (
            rude_refunds <= set(rejected["text"])
            and labels["refund_request"]["candidates_rejected"] == 2
        )
    else:
        assert rude_refunds <= set(kept["text"]) and flag["exempted_candidates"] == 2
    counts = json.loads((tmp_path / "counts.json").read_text())
    assert (
        counts["by_label"]["toxicity"]["cancel_subscription"]["rejected"] == 1
        and "label_shift" in counts
    )


def test_filter_stage_is_quiet_when_every_gate_is_calibrated(tmp_path):
    res = _stage(tmp_path, "fail", [])
    assert res.returncode == 0 and _messages(res) == []
    assert (
        json.loads((tmp_path / "calibration.json").read_text())["miscalibrated"] == []
    )


def test_a_type_with_targets_reports_its_pool_texts_under_one_label():
    from synthkit.calibration import ALL, Calibration
    from synthkit.engine import LocalEngine
    from synthkit.tasks.base import TaskContext
    from synthkit.tasks.registry import load_step
    from tests.examples import example, prepared_seeds

    spec, params, _ = example("rewrite")
    params = params.model_copy(
        update={
            "filter": params.filter.model_copy(
                update={"pii": params.filter.pii.model_copy(update={"enabled": False})}
            )
        }
    )
    seeds = prepared_seeds("rewrite")
    pool = seeds.head(3).with_columns(
        pl.lit(None, dtype=pl.String).alias("target"),
        pl.lit("unlabeled").alias("split"),
        pl.col("id") + "p",
    )
    cal = Calibration(
        load_step(spec, params, "filter"),
        TaskContext(spec, params, progress=False),
        seeds,
        pool,
        None,
        LocalEngine(),
    )
    assert set(cal.rates) == {
        "pii",
        "toxicity",
        "critic",
    }  # no consistency gate for a type with targets
    critic = cal.rates["critic"]
    assert (
        critic[ALL]["texts"] == critic[ALL]["pool"]["texts"] == 3
    )  # pool texts of a type without a label student
    assert sum(d["texts"] for d in critic.values()) == seeds.height + 3
    report, by_label = cal.report(
        seeds.head(0),
        pl.DataFrame(
            {"gate": [], "label": []}, schema={"gate": pl.String, "label": pl.String}
        ),
        ["critic"],
    )
    assert (
        report["real_texts"]["pool_labels"].startswith("none")
        and by_label["label_shift"] == []
    )
