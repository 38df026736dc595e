"""Quality of the PII and toxicity gates on public human-written test sets (read in place, never copied).

PII: span precision/recall per entity type on the TAB court-judgment test split (a prediction matches a gold
span of the same type when they overlap). Toxicity: precision/recall/F1 on Davidson et al. 2017 (positive =
hate_speech or offensive_language) at the default threshold. False-positive rate of both: share of CLINC150 and
Banking77 test texts flagged. The default PII gate on chat text: an informal set built from templates and faker
values, and per intent label the flagged and false-positive shares on the CLINC150 and Banking77 texts per split
(train, validation, test) and all splits together, every finding checked by hand (pii_real_texts_review.json).
Sources and licenses: ../shared/datasets/README.md (TAB: MIT, Norsk Regnesentral; Davidson: MIT; CLINC150: CC BY
3.0; Banking77: CC BY 4.0). Defaults are never tuned on test splits: the chat-text name rules are developed on the
CLINC150 and Banking77 train texts.

Usage: python benchmarks/gates.py [--datasets ../shared/datasets] [--max-texts 25000]; writes reports/bench/gates.json.
Exits 0 with {"skipped": ...} when the datasets folder is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

from synthkit.config import PiiParams, ToxicityParams, load_params
from synthkit.generators.noise import add_typos
from synthkit.gates.pii import build_analyzer, scan_pii
from synthkit.gates.toxicity import gate_toxicity
from synthkit.io import write_json

# The gate's entities for this benchmark: thresholds as in params.yaml (phone 0.4), 0.5 elsewhere.
CODE_ENTITIES = (
    "CREDIT_CARD", "IBAN_CODE", "US_SSN", "US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "UK_NHS",
    "PHONE_NUMBER", "EMAIL_ADDRESS", "IP_ADDRESS", "URL",
)  # fmt: skip
BENCH_PII = PiiParams(
    prescreen=True,
    entities={
        "PERSON": {"threshold": 0.5},
        "LOCATION": {"threshold": 0.5},
        "DATE_TIME": {"threshold": 0.5},
        **{e: {"threshold": 0.4 if e == "PHONE_NUMBER" else 0.5} for e in CODE_ENTITIES},
    },
)
# Presidio entity -> TAB type; TAB types without a Presidio counterpart are reported as not covered.
TO_TAB = {"PERSON": "PERSON", "LOCATION": "LOC", "DATE_TIME": "DATETIME", **{e: "CODE" for e in CODE_ENTITIES}}
REPORT_NAME = {"PERSON": "PERSON", "LOC": "LOCATION", "DATETIME": "DATE_TIME", "CODE": "CODE"}
NOT_COVERED = ("ORG", "DEM", "MISC", "QUANTITY")


def read_jsonl(path: Path) -> list[dict]:
    """The file's records, each with its 1-based line number under "line" (how reports name a row without copying it)."""
    with path.open(encoding="utf-8") as fh:
        return [{**json.loads(line), "line": n} for n, line in enumerate(fh, 1) if line.strip()]


def sample(rows: list, n: int, seed: int = 13) -> list:
    """All rows when there are at most n, else a deterministic random sample of n (original order kept)."""
    if len(rows) <= n:
        return rows
    keep = sorted(random.Random(seed).sample(range(len(rows)), n))
    return [rows[i] for i in keep]


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def pii_tab(docs: list[dict], analyzer) -> dict:
    """Span precision/recall per TAB type, overlap match, over all documents."""
    counts = {t: {"pred": 0, "pred_matched": 0, "gold": 0, "gold_matched": 0, "other": 0} for t in REPORT_NAME}
    findings = scan_pii([d["text"] for d in docs], BENCH_PII, analyzer)
    for doc, found in zip(docs, findings):
        gold: dict[str, list[tuple[int, int]]] = {}
        for s in doc["spans"]:
            gold.setdefault(s["label"], []).append((s["start"], s["end"]))
        pred: dict[str, list[tuple[int, int]]] = {}
        for f in found:
            pred.setdefault(TO_TAB[f.entity], []).append((f.start, f.end))
        for t, c in counts.items():
            g, p = gold.get(t, []), pred.get(t, [])
            c["gold"] += len(g)
            c["pred"] += len(p)
            c["gold_matched"] += sum(any(overlaps(x, y) for y in p) for x in g)
            c["pred_matched"] += sum(any(overlaps(x, y) for y in g) for x in p)
            others = [y for k, v in gold.items() if k != t for y in v]
            c["other"] += sum(not any(overlaps(x, y) for y in g) and any(overlaps(x, y) for y in others) for x in p)
    out = {}
    for t, c in counts.items():
        out[REPORT_NAME[t]] = {
            "precision": round(c["pred_matched"] / c["pred"], 4) if c["pred"] else None,
            "recall": round(c["gold_matched"] / c["gold"], 4) if c["gold"] else None,
            "predicted_spans": c["pred"],
            "gold_spans": c["gold"],
            # unmatched predictions that sit inside a gold span of another type ("Ankara" in "Ankara State Security Court", ORG)
            "unmatched_inside_other_type": c["other"],
        }
    out["CODE"]["presidio_entities"] = list(CODE_ENTITIES)
    for t in NOT_COVERED:
        n = sum(1 for d in docs for s in d["spans"] if s["label"] == t)
        out[t] = {"precision": None, "recall": None, "covered": False, "gold_spans": n}
    return out


# --- informal (chat) PII: a labelled set built from hand-written templates, faker values and the project's noise ---
PERSON_TEMPLATES = [
    "make an alarm for the meeting with {n} at seven today", "is it true that {n}'s birthday is on march first",
    "remove {n}'s bedtime alarm", "add a new contact for {f}", "call {n}", "call {n} on speaker please",
    "text {n} that i'm running late", "send a message to {n} saying happy birthday", "email {n} the report from yesterday",
    "tell {n} i'll be there in ten minutes", "remind me to call {n} tomorrow morning", "set up a meeting with {n} for friday",
    "schedule lunch with {n} next week", "what is {n}'s phone number", "when is {n}'s birthday", "did {n} reply to my email",
    "how long is the drive to {n}'s house", "share my location with {n}", "my name is {n}", "you can call me {n}",
    "i'm {n}, i need help with my order", "hi it's {n} from accounts", "ask {n} if she wants pizza",
    "invite {n} to the party on saturday", "{n} and i are going to the movies tonight", "book a table for two under the name {n}",
    "buy a gift for {n}", "transfer fifty dollars to {n}", "remind {n} about the dentist appointment",
    "put {n}'s soccer practice on the calendar", "add {f} to my contacts", "delete {f} from my contacts",
    "what's {f}'s email address", "read my last message from {n}", "forward this to {n} please", "cancel my meeting with {n}",
    "play the playlist {n} made", "how old is {n}", "facetime {n}", "my brother {n} needs a ride", "can you ring {n} back",
    "hey {n}, are we still on for tonight", "{f} called about the refund",
]  # fmt: skip
EMAIL_TEMPLATES = ["my email is {e}", "add {e} as a new contact", "send the invoice to {e}", "you can reach me at {e}",
                   "email {e} the tickets", "change my email to {e}", "is {e} in my contacts", "reply to {e} please"]  # fmt: skip
PHONE_TEMPLATES = ["my number is {p}", "call me back on {p}", "save {p} as mum's mobile", "text {p} when you land",
                   "the new landline is {p}", "dial {p}"]  # fmt: skip
# Everyday words that are also names, used as words: none of these holds a person.
HARD_NEGATIVES = [
    "mark my calendar for june 5th", "may i pay my bill with my card", "will it rain tomorrow", "bill payment failed again",
    "set a reminder to pay the water bill", "hey will you set an alarm for 7", "hi may i ask something", "pay my bill with chase",
    "ask alexa to play music", "what is my phone bill this month", "grant me access to the shared folder", "i hope you can help",
    "mark the email as read", "the summer sale price was wrong", "will you book a table at 8", "look at google.com for the answer",
    "meet me at the cafe. it is on main street", "count one two three", "i'm at work. it is late", "play hey jude",
    "text message failed to send", "email address change please", "how do i say thank you in german", "flight to austin on may 3rd",
]  # fmt: skip
NAME_LOCALES = ("en_US", "en_GB")  # names of the capitalised-text lists
# English-speaking locales outside the capitalised-text lists (the chat-text lists take every faker locale)
OTHER_LOCALES = ("en_NZ", "en_KE", "en_NG", "en_PK")
AMBIGUOUS_NAMES = ["will", "may", "june", "bill", "mark", "grace", "robin", "april", "jade", "chase"]


def _spell_email(local: str, domain: str, r: random.Random) -> str:
    """An address as people type or say it in chat."""
    name, _, tld = domain.partition(".")
    spoken_local = local.replace(".", " dot ") if r.random() < 0.5 else local
    forms = [f"{local}@{name} dot {tld}", f"{spoken_local} at {name} dot {tld}", f"{local} at {domain}",
             f"{local} (at) {name} (dot) {tld}", f"{local} [at] {name} [dot] {tld}", f"{local} @ {name} . {tld}"]  # fmt: skip
    if name in ("gmail", "hotmail", "yahoo", "outlook"):
        forms.append(f"{local} at {name}")
    return r.choice(forms)


def _spell_phone(r: random.Random) -> str:
    words = "zero one two three four five six seven eight nine".split()
    digits = r.choice([f"{r.randint(200, 999)}{r.randint(200, 999)}{r.randint(1000, 9999)}", f"07{r.randint(100000000, 999999999)}"])
    groups = [digits[:3], digits[3:6], digits[6:]] if len(digits) == 10 else [digits[:5], digits[5:]]
    out = []
    for g in groups:
        if r.random() < 0.2:
            out.append(g)  # a group in digits: "555 one two three..."
        else:
            out.append(" ".join("oh" if c == "0" and r.random() < 0.5 else words[int(c)] for c in g))
    return r.choice([" ", ", ", " - "]).join(out)


def informal_set(n: int = 1500, seed: int = 13, typo_rate: float = 0.06) -> list[dict]:
    """Chat-style texts with PERSON, EMAIL_ADDRESS and PHONE_NUMBER spans, and texts without PII.

    Templates are filled with faker values, then given the project's keyboard noise (generators.noise.add_typos on
    the words around the values, lower-casing, dropped apostrophes), so the gold spans stay exact."""
    from faker import Faker

    r = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in (*NAME_LOCALES, *OTHER_LOCALES)}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    rows = []
    for i in range(n):
        kind = ("person", "person", "email", "phone", "none")[i % 5]
        lower, drop_apostrophes = r.random() < 0.6, r.random() < 0.5
        if kind == "person":
            source = "ambiguous" if r.random() < 0.1 else "other_locales" if r.random() < 0.2 else "listed"
            fk = fakers[r.choice(OTHER_LOCALES if source == "other_locales" else NAME_LOCALES)]
            first = r.choice(AMBIGUOUS_NAMES) if source == "ambiguous" else fk.first_name()
            template = r.choice(PERSON_TEMPLATES)
            value = f"{first} {fk.last_name()}" if "{f}" in template else first
            if r.random() < 0.75:
                value = value.lower()
            slot, label = ("{f}" if "{f}" in template else "{n}"), "PERSON"
        elif kind == "email":
            fk = fakers["en_US"]
            local = r.choice([fk.user_name(), f"{fk.first_name()}.{fk.last_name()}".lower(), f"{fk.first_name().lower()}{r.randint(1, 99)}"])
            domain = r.choice([fk.free_email_domain(), fk.domain_name()])
            template, value, slot, label, source = r.choice(EMAIL_TEMPLATES), _spell_email(local, domain, r), "{e}", "EMAIL_ADDRESS", "spelled"
        elif kind == "phone":
            template, value, slot, label, source = r.choice(PHONE_TEMPLATES), _spell_phone(r), "{p}", "PHONE_NUMBER", "words"
        else:
            template, value, slot, label, source = r.choice(HARD_NEGATIVES), "", None, None, "hard_negative"
        before, _, after = template.partition(slot) if slot else (template, "", "")
        before, after = add_typos(before, typo_rate, r), add_typos(after, typo_rate, r)
        if drop_apostrophes:
            before, after = before.replace("'", ""), after.replace("'", "")
        if lower:
            before, value, after = before.lower(), value.lower(), after.lower()
        text = before + value + after
        spans = [{"start": len(before), "end": len(before) + len(value), "label": label}] if slot else []
        rows.append({"text": text, "spans": spans, "kind": kind, "source": source})
    return rows


def pii_informal(rows: list[dict], params: PiiParams, analyzer) -> dict:
    """Span precision/recall per entity (overlap match) on the informal set, with recall per name source."""
    entities = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER")
    found = scan_pii([r["text"] for r in rows], params, analyzer)
    c = {e: {"pred": 0, "pred_matched": 0, "gold": 0, "gold_matched": 0} for e in entities}
    by_source: dict[str, list[int]] = {}
    hard_negative_flagged = 0
    for row, fs in zip(rows, found):
        for e in entities:
            g = [(s["start"], s["end"]) for s in row["spans"] if s["label"] == e]
            p = [(f.start, f.end) for f in fs if f.entity == e]
            c[e]["gold"] += len(g)
            c[e]["pred"] += len(p)
            c[e]["gold_matched"] += sum(any(overlaps(x, y) for y in p) for x in g)
            c[e]["pred_matched"] += sum(any(overlaps(x, y) for y in g) for x in p)
            if g:
                key = f"{e}:{row['source']}"
                hit = sum(any(overlaps(x, y) for y in p) for x in g)
                by_source.setdefault(key, [0, 0])
                by_source[key][0] += hit
                by_source[key][1] += len(g)
        hard_negative_flagged += row["source"] == "hard_negative" and bool(fs)
    out = {
        e: {
            "precision": round(v["pred_matched"] / v["pred"], 4) if v["pred"] else None,
            "recall": round(v["gold_matched"] / v["gold"], 4) if v["gold"] else None,
            "gold_spans": v["gold"], "predicted_spans": v["pred"],
        }
        for e, v in c.items()
    }  # fmt: skip
    out["recall_by_source"] = {k: {"recall": round(h / n, 4), "gold_spans": n} for k, (h, n) in sorted(by_source.items())}
    n_hard = sum(r["source"] == "hard_negative" for r in rows)
    out["hard_negatives"] = {"texts": n_hard, "flagged": hard_negative_flagged}
    out["texts"] = len(rows)
    return out


REVIEW_FILE = Path(__file__).with_name("pii_real_texts_review.json")


def finding_key(text: str, span: str) -> str:
    """The review file's key of one finding: a hash of the text and the flagged words."""
    return f"{hashlib.sha1(text.encode()).hexdigest()[:12]}:{span}"


def flagged_by_label(rows: list[dict], found: list[list], review: dict[str, bool]) -> dict:
    """Per intent label: the share of real texts with a finding, and the share whose findings include words a person
    judged no real name (review file: finding key -> true when the words are a person's name)."""
    by_label: dict[str, list[int]] = {}
    flagged = []
    for row, fs in zip(rows, found):
        counts = by_label.setdefault(row["label"], [0, 0, 0, 0])  # texts, flagged, false, unreviewed
        counts[0] += 1
        if not fs:
            continue
        verdicts = [review.get(finding_key(row["text"], f.text)) for f in fs]
        counts[1] += 1
        counts[2] += any(v is False for v in verdicts)
        counts[3] += any(v is None for v in verdicts)
        real = None if any(v is None for v in verdicts) else all(verdicts)
        flagged.append({"label": row["label"], "split": row["split"], "line": row["line"],
                        "findings": [[f.entity, f.text] for f in fs], "real_name": real})  # fmt: skip
    labels = {
        label: {"texts": n, "flagged": k, "flagged_share": round(k / n, 4), "false_positive": fp,
                "false_positive_share": round(fp / n, 4), "unreviewed": u}
        for label, (n, k, fp, u) in sorted(by_label.items())
    }  # fmt: skip
    over = [label for label, v in labels.items() if v["flagged_share"] > 0.01]
    n_texts = len(rows)
    n_flagged = sum(v["flagged"] for v in labels.values())
    n_false = sum(v["false_positive"] for v in labels.values())
    return {
        "texts": n_texts,
        "flagged": n_flagged,
        "flagged_share": round(n_flagged / n_texts, 4) if n_texts else None,
        "false_positive": n_false,
        "false_positive_share": round(n_false / n_texts, 4) if n_texts else None,
        "false_positive_share_of_flagged": round(n_false / n_flagged, 4) if n_flagged else None,
        "unreviewed": sum(v["unreviewed"] for v in labels.values()),
        "labels": len(labels),
        "max_label_flagged_share": max((v["flagged_share"] for v in labels.values()), default=None),
        "max_label_false_positive_share": max((v["false_positive_share"] for v in labels.values()), default=None),
        "labels_flagged_over_1pct": over,
        "labels_false_positive_over_1pct": [label for label, v in labels.items() if v["false_positive_share"] > 0.01],
        "labels_over_1pct_only_through_real_names": [
            label for label in over if labels[label]["false_positive"] == 0 and labels[label]["unreviewed"] == 0
        ],
        "by_label": labels,
        "flagged_texts": flagged,
    }


def flagged_by_split(rows: list[dict], params: PiiParams, analyzer, review: dict[str, bool], file: str = "") -> dict:
    """flagged_by_label on each split of a real dataset (train first: the split rules are developed on) and on all
    its splits together; every text is scanned once. Flagged texts are named by their line in `file`, never copied."""
    found = scan_pii([r["text"] for r in rows], params, analyzer)
    out = {}
    for split in sorted({r["split"] for r in rows}, key=lambda s: (s != "train", s)):
        keep = [i for i, r in enumerate(rows) if r["split"] == split]
        part = flagged_by_label([rows[i] for i in keep], [found[i] for i in keep], review)
        del part["flagged_texts"]  # listed once, under "all"
        out[split] = part
    out["all"] = {"file": file, **flagged_by_label(rows, found, review)}
    return out


def toxicity_davidson(rows: list[dict], params: ToxicityParams) -> dict:
    verdicts = gate_toxicity([r["text"] for r in rows], params)
    tp = fp = fn = tn = 0
    for r, v in zip(rows, verdicts):
        positive = r["label"] in ("hate_speech", "offensive_language")
        flagged = v.reason is not None
        tp += positive and flagged
        fp += (not positive) and flagged
        fn += positive and not flagged
        tn += not positive and not flagged
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "davidson_neither_flagged_rate": round(fp / (fp + tn), 4) if fp + tn else None,
        "n": len(rows),
        "threshold": params.threshold,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parent.parent
    ap.add_argument("--datasets", default=str(here.parent / "shared" / "datasets"))
    ap.add_argument("--max-texts", type=int, default=25000, help="deterministic sample cap per dataset")
    ap.add_argument("--out", default=str(here / "reports" / "bench" / "gates.json"))
    args = ap.parse_args()
    root = Path(args.datasets)
    needed = {
        "tab": root / "pii" / "tab_echr_test.jsonl",
        "davidson": root / "davidson_hate_offensive" / "davidson_hate_offensive.jsonl",
        "clinc150": root / "clinc150" / "clinc150.jsonl",
        "banking77": root / "banking77" / "banking77.jsonl",
    }
    missing = [str(p) for p in needed.values() if not p.is_file()]
    if missing:
        result = {"skipped": f"datasets not found: {', '.join(missing)}"}
        print(json.dumps(result))
        write_json(result, args.out)
        return 0

    t0 = time.perf_counter()
    analyzer = build_analyzer(None)
    tox = ToxicityParams()  # the default threshold, 0.8

    docs = sample([r for r in read_jsonl(needed["tab"]) if r["split"] == "test"], args.max_texts)
    t = time.perf_counter()
    pii = pii_tab(docs, analyzer)
    pii_seconds = time.perf_counter() - t

    davidson = sample(read_jsonl(needed["davidson"]), args.max_texts)
    toxicity = toxicity_davidson(davidson, tox)

    clean = []
    sizes = {}
    real_rows = {}
    for name in ("clinc150", "banking77"):
        real_rows[name] = sample([r for r in read_jsonl(needed[name]) if r["split"] == "test"], args.max_texts)
        texts = [r["text"] for r in real_rows[name]]
        sizes[name] = len(texts)
        clean += [(name, x) for x in texts]
    texts = [x for _, x in clean]
    found = scan_pii(texts, BENCH_PII, analyzer)
    flagged_tox = [v.reason is not None for v in gate_toxicity(texts, tox)]
    by_entity: dict[str, int] = {}
    for fs in found:
        for e in sorted({f.entity for f in fs}):
            by_entity[e] = by_entity.get(e, 0) + 1
    per_set = {}
    for name in sizes:
        rows = [i for i, (n, _) in enumerate(clean) if n == name]
        per_set[name] = {
            "pii": round(sum(bool(found[i]) for i in rows) / len(rows), 4),
            "toxicity": round(sum(flagged_tox[i] for i in rows) / len(rows), 4),
        }
    pii["false_positive_rate"] = round(sum(bool(f) for f in found) / len(texts), 4)
    # the default gate (params.yaml filter.pii) on chat text: the informal set and the real intent texts, per label
    defaults = load_params(str(here / "params.yaml")).filter.pii.model_copy(update={"workers": 1})
    t = time.perf_counter()
    informal = pii_informal(informal_set(), defaults, analyzer)
    informal["seconds"] = round(time.perf_counter() - t, 2)
    review = json.loads(REVIEW_FILE.read_text(encoding="utf-8"))["findings"]
    informal["real_texts_default_params"] = {
        name: flagged_by_split(sample(read_jsonl(needed[name]), args.max_texts), defaults, analyzer, review,
                               needed[name].relative_to(root).as_posix()) for name in real_rows
    }
    informal["entities"] = {k: {"threshold": v.threshold, "action": v.action} for k, v in sorted(defaults.entities.items())}
    pii["false_positive_texts_by_entity"] = dict(sorted(by_entity.items()))
    toxicity["false_positive_rate"] = round(sum(flagged_tox) / len(texts), 4)

    result = {
        "pii": pii,
        "pii_informal": informal,
        "toxicity": toxicity,
        "false_positive_rate_by_dataset": per_set,
        "pii_entities": {k: v.threshold for k, v in sorted(BENCH_PII.entities.items())},
        "pii_spacy_model": None,
        "sizes": {"tab_documents": len(docs), "davidson_texts": len(davidson), **{f"{k}_test_texts": v for k, v in sizes.items()}},
        "pii_tab_seconds": round(pii_seconds, 2),
        "wall_seconds": round(time.perf_counter() - t0, 2),
        "sources": "TAB (MIT), Davidson et al. 2017 (MIT), CLINC150 (CC BY 3.0), Banking77 (CC BY 4.0); see datasets README",
    }
    write_json(result, args.out)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
