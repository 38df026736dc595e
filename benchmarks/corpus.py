"""A deterministic corpus of N realistic synthetic candidates with known duplicates, near-duplicates and PII.

Support-ticket messages for the bundled spec's labels: an opening, a label-specific request, a context clause of
ordinary English words, and a closing. On top of the unique texts the corpus holds, at known rows:
exact duplicates (verbatim or only casing/whitespace), near-duplicates (one or two word edits, casing,
punctuation), injected PII (email, phone, card, IP, SSN, IBAN, names), protected eval texts (exact and
edited), offensive texts and generator artifacts the offline critic catches.
"""

from __future__ import annotations

import random
from collections import Counter

import polars as pl

from synthkit.schemas import Example, conform

LABELS = {
    "refund_request": ["I was charged twice for my {plan} plan and want one payment refunded",
                       "please refund the {amount} charge from last week",
                       "I returned the {item} and still have not got my money back",
                       "the {item} arrived broken and I would like a refund instead of a replacement"],
    "cancel_subscription": ["I want to cancel my {plan} subscription before it renews",
                            "please switch off auto renewal on my account",
                            "how do I end the free trial before it turns into a paid plan",
                            "stop my {plan} plan at the end of this billing period"],
    "billing_question": ["why does my invoice show {amount} instead of the usual price",
                         "can I change the card I pay with for the {plan} plan",
                         "what would the upgrade from {plan} to Team cost with proration",
                         "is VAT included in the {amount} on my receipt"],
    "login_problem": ["I cannot sign in because the reset email never arrives",
                      "the verification code is rejected every time I try to log in",
                      "Google sign in fails with an error on the login screen",
                      "my password reset link has expired again"],
    "account_locked": ["my account says it is suspended after a failed payment",
                       "I got an email that my account is locked for suspicious activity",
                       "the app tells me my account has been disabled by security",
                       "my profile is flagged and I cannot use it until the hold is lifted"],
    "order_status": ["where is my order with the {item}, it has not shipped yet",
                     "the tracking for my {item} has not updated in days",
                     "when will the {item} I ordered be delivered",
                     "my parcel with the {item} seems stuck at the depot"],
    "damaged_or_wrong_item": ["the {item} I received is the wrong colour, please send the right one",
                              "my {item} came cracked and I need a replacement",
                              "you sent me a {item} instead of what I ordered",
                              "parts of the {item} are missing from the box"],
    "technical_bug": ["the app crashes whenever I open the {feature} screen",
                      "syncing stops halfway and the {feature} page stays blank",
                      "after the update the {feature} button does nothing",
                      "exports from {feature} come out empty"],
    "update_account_details": ["I need to change the email address on my account",
                               "please update the shipping address for future orders",
                               "how can I change the name shown on my profile",
                               "I moved and want to update my billing details"],
    "feature_request": ["it would be great if {feature} supported dark mode",
                        "please add an option to export {feature} as a spreadsheet",
                        "could you let teams share {feature} with guests",
                        "I would love keyboard shortcuts in {feature}"],
}  # fmt: skip
OPENINGS = ["hi", "hello", "hey there", "good morning", "hi support team", "dear Northwind", "quick question",
            "hello again", "urgent", "hi all", "", "", ""]  # fmt: skip
CLOSINGS = ["thanks", "thank you", "cheers", "thanks in advance", "please help", "regards", "asap please",
            "let me know", "", "", ""]  # fmt: skip
PLANS = ["Basic", "Plus", "Pro", "Team"]
ITEMS = ["headphones", "desk lamp", "backpack", "water bottle", "phone case", "keyboard", "notebook set",
         "charging cable", "coffee mug", "travel adapter", "monitor stand", "webcam"]  # fmt: skip
FEATURES = ["calendar", "reports", "dashboard", "notes", "projects", "inbox", "settings", "timeline"]
CHANNELS = ["chat", "email", "ticket_subject", "call_transcript", "pasted_notes"]
FAMILIES = ["typical", "short", "long", "messy", "multilingual", "ambiguous", "hard_negative"]

PII = [
    ("EMAIL_ADDRESS", lambda r: f"you can reach me at {r.choice(['sam', 'j.doe', 'alex88', 'mara'])}{r.randint(1, 999)}@example.com"),
    ("PHONE_NUMBER", lambda r: f"call me on (212) 555-{r.randint(1000, 9999)}"),
    ("CREDIT_CARD", lambda r: f"my card is {r.choice(['4111 1111 1111 1111', '5555 5555 5555 4444', '3782 822463 10005'])}"),
    ("IP_ADDRESS", lambda r: f"my IP is 192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"),
    ("US_SSN", lambda r: f"my SSN is 536-{r.randint(10, 99)}-{r.randint(1000, 9999)}"),
    ("IBAN_CODE", lambda r: "refund it to GB82 WEST 1234 5698 7654 32"),
    ("PERSON", lambda r: f"my name is {r.choice(['Sarah Connor', 'James Miller', 'Aisha Khan', 'Lukas Schmidt'])}"),
]  # fmt: skip
OFFENSIVE = ["this is fucking ridiculous", "your useless shit app", "what a bunch of idiots, fix this crap"]
ARTIFACTS = ["As an AI language model, here is a customer message:", "Dear {customer_name},",
             "I hope this message finds you well.", "TODO add detail"]  # fmt: skip

# Share of rows of each kind (the rest are unique texts).
SHARES = {"exact": 0.05, "near": 0.10, "pii": 0.03, "eval": 0.001, "offensive": 0.005, "artifact": 0.01}


def _fill(template: str, r: random.Random) -> str:
    return template.format(
        plan=r.choice(PLANS), item=r.choice(ITEMS), feature=r.choice(FEATURES), amount=f"${r.randint(5, 299)}.{r.randint(0, 99):02d}"
    )


def _unique_text(r: random.Random, words: list[str], label: str) -> str:
    parts = [r.choice(OPENINGS), _fill(r.choice(LABELS[label]), r)]
    context = " ".join(r.choice(words) for _ in range(r.randint(8, 20)))
    parts.append(r.choice(["also", "by the way", "context:", "fyi", "and", "note"]) + " " + context)
    if r.random() < 0.25:
        parts.append(f"order #NW-{r.randint(10000, 99999)}")
    parts.append(r.choice(CLOSINGS))
    text = ". ".join(p for p in parts if p)
    return text[0].upper() + text[1:]


def _near_edit(text: str, r: random.Random, words: list[str]) -> str:
    ws = text.split()
    kind = r.choice(["one_word", "one_word", "two_words", "casing", "punct"])
    if kind in ("one_word", "two_words") and len(ws) > 8:
        for _ in range(1 if kind == "one_word" else 2):
            ws[r.randrange(len(ws))] = r.choice(words)
        return " ".join(ws)
    if kind == "casing":
        return text.upper() if r.random() < 0.5 else text.lower()
    return text.replace(". ", "! ", 1).rstrip(".") + "?!"


def generate_candidates(
    n: int, seed: int = 13, eval_texts: list[str] | None = None, eval_copies: list[tuple[int, int, bool]] | None = None,
    row_kinds: list[str] | None = None,
) -> tuple[pl.DataFrame, dict]:
    """n candidate rows (Example schema, ids c00000000...) and the row kinds planted in them.

    eval_copies, when given, receives (row, eval position, edited) for every planted copy of an eval text; edited is
    False for a verbatim copy and True for a copy through _near_edit (word edits, casing or punctuation).
    row_kinds, when given, receives every row's kind (unique, exact, near, eval, pii_<entity>, offensive, artifact).
    """
    from faker.providers.lorem.en_US import Provider as Lorem

    r = random.Random(seed)
    words = sorted(set(Lorem.word_list))
    labels = sorted(LABELS)
    eval_texts = list(eval_texts or [])
    texts, row_labels, kinds = [], [], []
    for i in range(n):
        label = labels[r.randrange(len(labels))]
        roll = r.random()
        acc, kind = 0.0, "unique"
        for name, share in SHARES.items():
            acc += share
            if roll < acc:
                kind = name
                break
        if kind in ("exact", "near") and i > 0:
            j = r.randrange(i)
            label = row_labels[j]
            if kind == "exact":
                text = texts[j] if r.random() < 0.5 else texts[j].upper()
            else:
                text = _near_edit(texts[j], r, words)
        elif kind == "pii":
            entity, make = PII[r.randrange(len(PII))]
            kind = f"pii_{entity}"
            text = f"{_unique_text(r, words, label)} {make(r)}"
        elif kind == "eval" and eval_texts:
            source = r.randrange(len(eval_texts))
            edited = r.random() >= 0.5
            text = _near_edit(eval_texts[source], r, words) if edited else eval_texts[source]
            if eval_copies is not None:
                eval_copies.append((i, source, edited))
        elif kind == "offensive":
            text = f"{_unique_text(r, words, label)} {r.choice(OFFENSIVE)}"
        elif kind == "artifact":
            text = f"{r.choice(ARTIFACTS)} {_unique_text(r, words, label)}"
        else:
            kind = "unique"
            text = _unique_text(r, words, label)
        texts.append(text)
        row_labels.append(label)
        kinds.append(kind)
    if row_kinds is not None:
        row_kinds.extend(kinds)
    df = pl.DataFrame(
        {
            "id": [f"c{i:08d}" for i in range(n)],
            "text": texts,
            "label": row_labels,
            "source": "synthetic",
            "scenario_id": [f"{lab}_s{i % 7}" for i, lab in enumerate(row_labels)],
            "family": [FAMILIES[i % len(FAMILIES)] for i in range(n)],
            "channel": [CHANNELS[i % len(CHANNELS)] for i in range(n)],
            "split": "train",
        }
    ).with_columns(pl.struct(pl.lit("template").alias("backend")).alias("generator"))
    return conform(df, Example), dict(sorted(Counter(kinds).items()))
