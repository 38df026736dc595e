"""A scripted "model" behind tests/openai_server.py: answers the generator's and the LLM gates' structured requests
deterministically from the request itself, with content faults on demand, and logs what it answered."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time

WORDS = ["yesterday", "again", "still", "honestly", "please", "asap", "today", "this week", "after the update", "on my phone",
         "twice", "for days", "right now", "since Monday", "on the website", "in the app", "last night", "this morning"]
OPENERS = ["so", "ok", "hey", "hello", "quick one", "um", "right", "look", "hi team", "good morning", "sorry", "urgent",
           "question", "help", "fyi", "hiya", "morning", "evening", "yo", "dear support"]
TOPIC = {
    "refund_request": "I want my money back for the charge on my card",
    "cancel_subscription": "stop my plan from renewing next month, no refund needed",
    "billing_question": "what is this line on my invoice and how is VAT computed",
    "login_problem": "the password reset email never arrives so I cannot sign in",
    "account_locked": "your system says my account is suspended after the security check",
    "order_status": "where is my parcel, tracking has not moved",
    "damaged_or_wrong_item": "the box arrived with the wrong colour inside, please exchange it",
    "technical_bug": "the app crashes when I open the calendar view",
    "update_account_details": "I need to change the shipping address saved on my account",
    "feature_request": "it would be great to have a dark mode option",
}


def body_key(body: dict) -> str:
    """Identifies one logical request (its messages and model), whatever the retry."""
    return hashlib.sha256(json.dumps([body.get("model"), body.get("messages")], sort_keys=True).encode()).hexdigest()


class FakeModel:
    """Route handler for /v1/chat/completions.

    faults maps a fault name to the share of requests (chosen by a hash of the request, so stable across runs) that
    get it: malformed_json, schema_invalid, unknown_label, empty. critic / relabel answers can be scripted per text.
    """

    def __init__(self, faults: dict[str, float] | None = None, latency_s: float = 0.0, labels: list[str] | None = None,
                 extra_items: int = 0):
        self.faults = faults or {}
        self.extra_items = extra_items  # utterances answered beyond the count asked (a model that ignores maxItems)
        self.log: list[tuple[str, str]] = []  # (schema name, content) of every answer
        self.latency_s = latency_s
        self.labels = labels or list(TOPIC)
        self.critic_scores: dict[str, dict] = {}  # substring of the text -> scores
        self.relabel: dict[str, str] = {}  # substring of the text -> label
        self.answered: list[tuple[str, str]] = []  # (body_key, content) of every 200 answer, in order
        self._lock = threading.Lock()

    def _fault(self, key: str) -> str | None:
        x = int(key[:8], 16) / 0xFFFFFFFF
        for name, share in sorted(self.faults.items()):
            if x < share:
                return name
            x -= share
        return None

    def __call__(self, body: dict) -> dict:
        if self.latency_s:
            time.sleep(self.latency_s)
        key = body_key(body)
        fmt = body.get("response_format") or {}
        name = (fmt.get("json_schema") or {}).get("name", "")
        user = body["messages"][-1]["content"]
        fault = self._fault(key)
        if fault == "malformed_json":
            content = '{"oops": [unterminated ' + key[:12]
        elif fault == "schema_invalid":
            content = json.dumps({"unexpected": key[:12]})
        else:
            content = json.dumps(self._answer(name, user, key, fault))
        with self._lock:
            self.answered.append((key, content))
            self.log.append((name, content))
        return {
            "id": f"chatcmpl-{key[:12]}", "object": "chat.completion", "created": 0, "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(json.dumps(body["messages"])) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": len(json.dumps(body["messages"])) // 4 + len(content) // 4},
        }

    def _answer(self, name: str, user: str, key: str, fault: str | None) -> dict:
        if name == "ScenarioList":
            label = re.search(r"label `([a-z_]+)`", user).group(1)
            count = int(re.search(r"Write (\d+)", user).group(1))
            kind = "hard case" if "hard-negative" in user else "case"
            return {"scenarios": [{"description": f"[{label}] {kind} {i} ({key[:6]}): {TOPIC.get(label, label)}"} for i in range(count)]}
        if name == "LabelChoice" and user.startswith("Which label"):
            label = re.search(r"\[([a-z_]+)\]", user).group(1)
            return {"label": "no_such_label" if fault == "unknown_label" else label, "rule": f"the first rule ({key[:12]})"}
        if name == "LabelChoice":  # relabel
            text = user.split('"""')[1].strip()
            scripted = next((lab for sub, lab in self.relabel.items() if sub in text), None)
            return {"label": scripted or next((lab for lab, topic in TOPIC.items() if topic in text), self.labels[0]), "rule": f"rule 1 ({key[:12]})"}
        if name == "UtteranceList":
            if fault == "empty":
                # one blank message; the blanks spell the key's first 32 bits, so every answer stays distinct
                return {"utterances": ["".join(" " if b == "1" else "\t" for b in f"{int(key[:8], 16):032b}")]}
            scenario = re.search(r"Scenario: \[([a-z_]+)\][^:]*: (.*)", user)
            count = int(re.search(r"Write (\d+)", user).group(1)) + self.extra_items
            h = int(key[:12], 16)
            out = []
            for i in range(count):
                a, b, c = OPENERS[(h >> (i * 3)) % len(OPENERS)], WORDS[(h >> (i * 5 + 1)) % len(WORDS)], WORDS[(h >> (i * 7 + 2)) % len(WORDS)]
                out.append(f"{a}, {scenario.group(2)} {b} {c} (ref {key[i:i + 5]})")
            return {"utterances": out}
        if name == "CriticScores":
            text = user.split('"""')[1].strip()
            scripted = next((s for sub, s in self.critic_scores.items() if sub in text), None)
            return scripted or {"realism": 4, "label_correctness": 5, "specificity": 4, "reason": f"fine ({key[:12]})"}
        raise AssertionError(f"unexpected request schema {name!r}")


def chat_routes(model: FakeModel) -> dict:
    return {"/v1/chat/completions": model}
