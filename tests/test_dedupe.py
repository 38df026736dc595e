"""Dedupe: normalization, shingles, verified LSH pairs vs brute force, per-reason verdicts, leakage report."""

from __future__ import annotations

import itertools
import json
import random

import polars as pl
import pytest
from datasketch import LeanMinHash

from synthkit.config import DedupeParams
from synthkit.dedupe import (
    NearDupIndex,
    dedupe,
    jaccard,
    lsh_bands,
    minhashes,
    near_duplicate_clusters,
    near_pairs,
    normalize_text,
    shingles,
)
from synthkit.schemas import Example, Reject, polars_schema, rows_to_frame

PARAMS = DedupeParams()
NO_MEANING = DedupeParams(eval_leakage={"enabled": False})
LONG = "I would like to know why my card payment was declined at the grocery store yesterday evening"
LONG_EDIT = LONG.replace("yesterday", "today")  # one-word edit, char 5-gram jaccard ~0.83
OTHER = "Please send me a new statement for the savings account I opened in March last year"
OTHER_EDIT = OTHER.replace("March", "May")  # jaccard ~0.86


def frame(rows: list[tuple[str, str]], source: str = "synthetic") -> pl.DataFrame:
    """An Example frame from (id, text) pairs."""
    return rows_to_frame(
        [
            {
                "id": i,
                "text": t,
                "label": "lbl",
                "source": source,
                "scenario_id": "sc",
                "family": "typical",
                "channel": "chat",
                "split": "train" if source == "synthetic" else "test",
                "generator": {"backend": "template"},
            }
            for i, t in rows
        ],
        Example,
    )


EMPTY = frame([])


def words_corpus(n_base: int, seed: int) -> list[str]:
    """Base sentences of random words plus one/two-word edits, casing and punctuation variants."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ten", "ra", "su", "vo", "pel", "dri", "an", "ost", "qui", "zer", "bo"]
    vocab = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(400)})
    base = [" ".join(rng.choices(vocab, k=rng.randint(8, 30))) for _ in range(n_base)]
    out = list(base)
    for text in base:
        ws = text.split()
        variant = rng.choice(["one_word", "one_word", "two_words", "casing", "punct"])
        if variant in ("one_word", "two_words"):
            for _ in range(1 if variant == "one_word" else 2):
                ws[rng.randrange(len(ws))] = rng.choice(vocab)
            out.append(" ".join(ws))
        elif variant == "casing":
            out.append(text.upper())
        else:
            out.append(", ".join(ws[:3]) + "! " + " ".join(ws[3:]) + "?")
    return out


# --- normalize_text / shingles / minhashes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("  many   spaces\tand\nlines ", "many spaces and lines"),
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full width"),  # NFKC
        ("ﬁne STRASSE Straße", "fine strasse strasse"),  # ligature + casefold
        ("don't / don’t", "dont dont"),  # apostrophes vanish, other punctuation splits words
        ("e-mail: «quoted»", "e mail quoted"),
        ("¿Qué tal?", "qué tal"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "n", "expected"),
    [
        ("Abcdef", "char", 5, {"abcde", "bcdef"}),
        ("ab", "char", 5, {"ab"}),
        ("", "char", 5, {""}),
        ("One two, THREE four", "word", 3, {"one two three", "two three four"}),
        ("one two", "word", 3, {"one two"}),
        ("a b a b", "word", 2, {"a b", "b a"}),
    ],
)
def test_shingles(text: str, kind: str, n: int, expected: set[str]) -> None:
    assert shingles(text, kind, n) == expected


def test_shingles_reject_bad_arguments() -> None:
    with pytest.raises(ValueError):
        shingles("text", "sentence", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        shingles("text", "char", 0)


def test_minhashes_are_lean_deterministic_and_variant_insensitive() -> None:
    texts = [LONG, LONG.upper() + "!!", OTHER]
    first, second = minhashes(texts, 64, "char", 5), minhashes(texts, 64, "char", 5)
    assert all(isinstance(m, LeanMinHash) and len(m) == 64 for m in first)
    assert first == second
    assert first[0] == first[1]  # casing and punctuation do not change the signature
    assert first[0].jaccard(first[2]) < 0.5
    assert minhashes([], 64, "char", 5) == []


@pytest.mark.parametrize(
    ("threshold", "num_perm"), [(0.5, 128), (0.8, 128), (0.9, 128), (0.8, 16), (1.0, 64), (0.05, 16)]
)
def test_lsh_bands_fit_and_favour_recall(threshold: float, num_perm: int) -> None:
    bands, rows = lsh_bands(threshold, num_perm)
    assert bands >= 2 and bands * rows <= num_perm
    if threshold >= 0.5:
        assert 1 - (1 - threshold**rows) ** bands >= 0.95


# --- verified LSH pairs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "n"), [("char", 5), ("word", 3)])
def test_near_pairs_match_brute_force(kind: str, n: int) -> None:
    params = DedupeParams(shingle=kind, ngram=n)
    corpus = words_corpus(150, seed=3)
    sets = [shingles(t, kind, n) for t in corpus]
    truth = {
        (i, j)
        for i, j in itertools.combinations(range(len(corpus)), 2)
        if jaccard(sets[i], sets[j]) >= params.threshold
    }
    pairs = near_pairs(corpus, params)
    found = {(i, j) for i, j, _ in pairs}
    assert len(truth) >= 60  # the corpus really holds near duplicates at the threshold
    assert all(jaccard(sets[i], sets[j]) >= params.threshold for i, j in found)  # perfect precision
    assert all(j == pytest.approx(jaccard(sets[a], sets[b])) for a, b, j in pairs)
    assert len(found & truth) / len(truth) >= 0.9
    assert pairs == sorted(pairs) and all(i < j for i, j, _ in pairs)


def test_index_query_is_verified_and_sorted() -> None:
    index = NearDupIndex([("b", LONG), ("a", LONG.upper()), ("c", LONG_EDIT), ("d", OTHER)], PARAMS)
    hits = index.query(LONG + "!")
    assert [k for k, _ in hits] == ["a", "b", "c"]
    assert hits[0][1] == hits[1][1] == 1.0 and PARAMS.threshold <= hits[2][1] < 1.0
    assert index.query("nothing like anything indexed here at all") == []
    assert NearDupIndex([], PARAMS).query(LONG) == []


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([], []),
        ([LONG], [1]),
        ([LONG] * 4, [4]),
        ([LONG, LONG.lower() + ".", LONG_EDIT, OTHER, OTHER_EDIT, "short one"], [3, 2, 1]),
    ],
)
def test_near_duplicate_clusters(texts: list[str], expected: list[int]) -> None:
    assert near_duplicate_clusters(texts, PARAMS) == expected


# --- dedupe verdicts ---------------------------------------------------------------------------------------


def verdicts(rejects: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """id -> (reason, detail) of a rejects frame."""
    return {r["id"]: (r["reason"], r["detail"]) for r in rejects.iter_rows(named=True)}


@pytest.mark.parametrize(
    ("synth", "seeds", "eval_", "params", "expected"),
    [
        ([("s1", LONG.upper() + "!")], [], [("e1", LONG)], PARAMS, {"s1": ("dedupe_eval_exact", "e1 jaccard=1.000")}),
        ([("s1", LONG_EDIT)], [], [("e1", LONG)], PARAMS, {"s1": ("dedupe_eval_near", "e1 jaccard=0.830")}),
        ([("s1", "Hello, friend!")], [("r1", "hello friend")], [], PARAMS, {"s1": ("dedupe_seed_exact", "r1")}),
        ([("s1", LONG_EDIT)], [("r1", LONG)], [], PARAMS, {"s1": ("dedupe_seed_near", "r1")}),
        ([("s1", LONG_EDIT)], [("r1", LONG)], [], DedupeParams(drop_near_seed=False), {}),
        ([("s2", LONG + "?"), ("s1", LONG)], [], [], PARAMS, {"s2": ("dedupe_exact", "s1")}),
        ([("s2", LONG), ("s1", LONG_EDIT)], [], [], PARAMS, {"s2": ("dedupe_near", "s1")}),
        # first hit wins: eval before seed before within-synthetic
        ([("s1", LONG)], [("r1", LONG)], [("e1", LONG)], PARAMS, {"s1": ("dedupe_eval_exact", "e1 jaccard=1.000")}),
        (
            [("s1", LONG), ("s2", LONG)],
            [("r1", LONG)],
            [],
            PARAMS,
            {"s1": ("dedupe_seed_exact", "r1"), "s2": ("dedupe_seed_exact", "r1")},
        ),
        # exact beats a nearer-looking id order: the exact seed wins over a near one with a smaller id
        ([("s1", LONG)], [("r0", LONG_EDIT), ("r9", LONG)], [], PARAMS, {"s1": ("dedupe_seed_exact", "r9")}),
        # a row dropped for leakage does not take its near twin down with it (eval check by meaning off)
        (
            [("s1", LONG_EDIT), ("s2", LONG_EDIT + " thanks")],
            [],
            [("e1", LONG)],
            NO_MEANING,
            {"s1": ("dedupe_eval_near", "e1 jaccard=0.830")},
        ),
        # ... the stricter eval check by meaning catches the twin itself (jaccard 0.772 < threshold 0.8)
        (
            [("s1", LONG_EDIT), ("s2", LONG_EDIT + " thanks")],
            [],
            [("e1", LONG)],
            PARAMS,
            {"s1": ("dedupe_eval_near", "e1 jaccard=0.830"), "s2": ("dedupe_eval_edit", "e1 jaccard=0.772 cosine=0.962")},
        ),
    ],
)
def test_dedupe_reasons(synth, seeds, eval_, params, expected) -> None:
    kept, rejects, _ = dedupe(frame(synth), frame(seeds, "real"), frame(eval_, "real"), params)
    assert verdicts(rejects) == expected
    assert set(kept["id"].to_list()) == {i for i, _ in synth} - set(expected)
    assert (rejects["gate"] == "dedupe").all()


def test_within_synthetic_greedy_keeps_smallest_id_and_names_a_verified_twin() -> None:
    chain = [LONG, LONG_EDIT, LONG_EDIT.replace("evening", "morning")]  # a~b, b~c, a !~ c
    sets = [shingles(t, "char", 5) for t in chain]
    assert jaccard(sets[0], sets[2]) < PARAMS.threshold <= min(jaccard(sets[0], sets[1]), jaccard(sets[1], sets[2]))
    kept, rejects, _ = dedupe(frame([("a", chain[0]), ("b", chain[1]), ("c", chain[2])]), EMPTY, EMPTY, PARAMS)
    assert kept["id"].to_list() == ["a", "c"]
    assert verdicts(rejects) == {"b": ("dedupe_near", "a")}


@pytest.mark.parametrize(
    ("synth", "n_kept"),
    [
        ([], 0),
        ([("s1", LONG)], 1),
        ([(f"s{i}", LONG if i % 2 else LONG.upper() + "...") for i in range(6)], 1),  # all duplicates
        ([("s1", "¡Hola, señor!"), ("s2", "HOLA SEÑOR"), ("s3", "hola  señor")], 1),  # unicode, casing, punctuation
    ],
)
def test_dedupe_edge_cases_keep_schema_and_account_for_every_row(synth, n_kept) -> None:
    kept, rejects, report = dedupe(frame(synth), EMPTY, EMPTY, PARAMS)
    assert kept.schema == polars_schema(Example)
    assert rejects.schema == polars_schema(Reject)
    assert kept.height == n_kept and kept.height + rejects.height == len(synth)
    if synth:
        assert kept["id"].to_list() == [min(i for i, _ in synth)]
        assert set(rejects["reason"]) <= {"dedupe_exact"}
        assert set(rejects["detail"]) <= {kept["id"][0]}
    assert report == {
        "eval_rows": 0,
        "training_rows_checked": len(synth),
        "leaked_eval_items": [],
        "n_leaked_eval_items": 0,
        "by_source": {"real": 0, "synthetic": 0},
        "by_kind": {},
    }


def test_dedupe_missing_column_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="seeds frame is missing column"):
        dedupe(frame([("s1", LONG)]), pl.DataFrame({"id": ["r1"]}), EMPTY, PARAMS)


def test_leakage_report_lists_every_leaked_eval_item_with_its_neighbours() -> None:
    synth = frame([("s1", LONG.upper()), ("s2", OTHER_EDIT), ("s3", "an unrelated synthetic question about loans")])
    seeds = frame([("r1", OTHER), ("r2", "a real seed that leaks nothing at all today")], "real")
    eval_ = frame([("e2", OTHER), ("e1", LONG), ("e3", "a clean eval item nobody copied")], "real")
    kept, rejects, report = dedupe(synth, seeds, eval_, PARAMS)
    assert kept["id"].to_list() == ["s3"]
    assert verdicts(rejects)["s2"][0] == "dedupe_eval_near"
    j = round(jaccard(shingles(OTHER, "char", 5), shingles(OTHER_EDIT, "char", 5)), 6)
    assert report == {
        "eval_rows": 3,
        "training_rows_checked": 5,
        "leaked_eval_items": [
            {
                "eval_id": "e1",
                "eval_text": LONG,
                "label": "lbl",
                "neighbours": [{"id": "s1", "source": "synthetic", "kind": "exact", "jaccard": 1.0, "removed": True}],
            },
            {
                "eval_id": "e2",
                "eval_text": OTHER,
                "label": "lbl",
                "neighbours": [
                    {"id": "r1", "source": "real", "kind": "exact", "jaccard": 1.0, "removed": False},
                    {"id": "s2", "source": "synthetic", "kind": "near", "jaccard": j, "removed": True},
                ],
            },
        ],
        "n_leaked_eval_items": 2,
        "by_source": {"real": 1, "synthetic": 2},
        "by_kind": {"exact": 2, "near": 1},
    }
    assert json.loads(json.dumps(report)) == report  # plain JSON types only


def test_dedupe_is_deterministic_under_shuffling() -> None:
    corpus = words_corpus(60, seed=11)
    synth_rows = [(f"s{i:03d}", t) for i, t in enumerate(corpus)]
    seed_rows = [(f"r{i}", t) for i, t in enumerate(corpus[5:70:9])]
    eval_rows = [(f"e{i}", t) for i, t in enumerate(corpus[2:90:11])]
    results = []
    for shuffle_seed in (0, 1, 2):
        rng = random.Random(shuffle_seed)
        inputs = ((synth_rows, "synthetic"), (seed_rows, "real"), (eval_rows, "real"))
        frames = [frame(rng.sample(rows, len(rows)), src) for rows, src in inputs]
        results.append(dedupe(*frames, PARAMS))
    first_kept, first_rejects, first_report = results[0]
    assert first_rejects.height > 0 and first_report["n_leaked_eval_items"] > 0
    for kept, rejects, report in results[1:]:
        assert kept.equals(first_kept)
        assert rejects.equals(first_rejects)
        assert report == first_report
    assert first_kept["id"].to_list() == sorted(first_kept["id"].to_list())
