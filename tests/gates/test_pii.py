"""PII gate: per-entity thresholds, reject/redact outcomes, offline analyzer, lossless pre-screen."""

from __future__ import annotations

import random
import socket
import subprocess
import sys

import pytest

from synthkit.config import PiiParams
from synthkit.errors import InputError
from synthkit.gates.base import KEEP
from synthkit.gates.pii import Finding, _prescreen, build_analyzer, gate_pii, pii_versions, redact, scan_pii

EXAMPLE = PiiParams(
    entities={
        "EMAIL_ADDRESS": {"threshold": 0.5, "action": "reject"},
        "PHONE_NUMBER": {"threshold": 0.4, "action": "redact"},
        "CREDIT_CARD": {"threshold": 0.5, "action": "reject"},
        "IBAN_CODE": {"threshold": 0.5, "action": "reject"},
        "IP_ADDRESS": {"threshold": 0.5, "action": "reject"},
        "US_SSN": {"threshold": 0.5, "action": "reject"},
    }
)


def _params(prescreen: bool = True, enabled: bool = True, **entities: tuple[float, str]) -> PiiParams:
    return PiiParams(
        enabled=enabled,
        prescreen=prescreen,
        entities={k: {"threshold": t, "action": a} for k, (t, a) in entities.items()},
    )


@pytest.fixture(scope="module")
def analyzer():
    return build_analyzer()


class _Counting:
    """Delegates to a real analyzer and counts analyze() calls."""

    def __init__(self, inner):
        self._inner, self.calls = inner, 0

    def analyze(self, *args, **kwargs):
        self.calls += 1
        return self._inner.analyze(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Untouchable:
    """Fails on any use: proves the analyzer is not called."""

    def __getattr__(self, name):
        raise AssertionError(f"analyzer.{name} must not be used")


# --- analyzer construction -------------------------------------------------------------------


def test_import_loads_nothing_heavy():
    heavy = ("presidio_analyzer", "spacy", "tldextract")
    code = f"import sys, synthkit.gates.pii; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_spacy_model_is_an_input_error():
    with pytest.raises(InputError) as exc:
        build_analyzer("xx_no_such_model_sm")
    assert exc.value.field == "filter.pii.spacy_model"
    assert exc.value.file == "params.yaml"
    assert "spaCy model 'xx_no_such_model_sm' is not installed" in exc.value.message


def test_named_spacy_model_is_used(tmp_path):
    import spacy

    spacy.blank("en").to_disk(tmp_path / "pipe")
    local = build_analyzer(str(tmp_path / "pipe"))
    assert gate_pii(["mail me at jo@example.org"], EXAMPLE, local)[0].reason == "pii_email_address"


def test_analyzer_never_touches_the_network(monkeypatch):
    import tldextract
    import tldextract.tldextract as tld_module

    # A fresh default extractor, as at first import: it would fetch the suffix list on first use.
    monkeypatch.setattr(tld_module, "TLD_EXTRACTOR", tldextract.TLDExtract(cache_dir=None))
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] or args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    local = build_analyzer()
    params = _params(URL=(0.5, "reject"), EMAIL_ADDRESS=(0.5, "reject"))
    found = scan_pii(["see example.com or mail a@example.com"], params, local)[0]
    assert {(f.entity, f.text) for f in found} >= {("EMAIL_ADDRESS", "a@example.com"), ("URL", "example.com")}
    assert attempts == []


def test_unknown_entity_is_an_input_error(analyzer):
    with pytest.raises(InputError) as exc:
        scan_pii(["hello"], _params(EMAIL_ADRESS=(0.5, "reject")), analyzer)
    assert exc.value.field == "filter.pii.entities.EMAIL_ADRESS"


def test_versions():
    v = pii_versions()
    assert set(v) == {"presidio-analyzer", "spacy"}
    assert v["presidio-analyzer"].startswith("2.")


# --- gate outcomes with the example params -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("please mail jane.doe@example.com about it", "pii_email_address"),
        ("card 4111 1111 1111 1111 was charged twice", "pii_credit_card"),
        ("card 5500-0000-0000-0004 declined", "pii_credit_card"),
        ("refund to IBAN DE89 3704 0044 0532 0130 00 please", "pii_iban_code"),
        ("refund to GB82WEST12345698765432", "pii_iban_code"),
        ("login blocked from 192.168.1.20", "pii_ip_address"),
        ("login blocked from 2001:db8::1", "pii_ip_address"),
        ("my ssn is 536-22-8726", "pii_us_ssn"),
        # a reject entity wins over a redact entity in the same text
        ("call +44 20 7946 0958 about card 4111111111111111", "pii_credit_card"),
    ],
)
def test_reject_entities_drop_the_text(analyzer, text, reason):
    (v,) = gate_pii([text], EXAMPLE, analyzer)
    assert v.reason == reason
    assert v.text is None
    assert v.detail  # ENTITY@start-end items


def test_detail_lists_spans_not_text(analyzer):
    (v,) = gate_pii(["mail a@example.com or call 415-555-0132"], EXAMPLE, analyzer)
    assert v.reason == "pii_email_address"
    assert v.detail == "EMAIL_ADDRESS@5-18,PHONE_NUMBER@27-39"


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("call me at 415-555-0132 tomorrow", "call me at <PHONE_NUMBER> tomorrow"),
        ("call 415-555-0132 or (212) 555-0199", "call <PHONE_NUMBER> or <PHONE_NUMBER>"),
        ("tel: +44 20 7946 0958", "tel: <PHONE_NUMBER>"),
    ],
)
def test_phone_numbers_are_redacted_and_kept(analyzer, text, redacted):
    (v,) = gate_pii([text], EXAMPLE, analyzer)
    assert v.reason is None
    assert v.text == redacted


@pytest.mark.parametrize(
    "text",
    [
        "my refund hasn't arrived",
        "where is order #NW-48213?",
        "order 55120 is late",
        "order #NW-48213 and order 55120 shipped on 2024-03-01",
        "the app crashes when I open settings",
        "I paid $49.99 for 2 items",
        "",
    ],
)
def test_texts_without_pii_are_kept_untouched(analyzer, text):
    assert gate_pii([text], EXAMPLE, analyzer) == [KEEP]


def test_one_verdict_per_text_in_order(analyzer):
    texts = ["all good here", "mail a@example.com", "call 415-555-0132", "order 55120"]
    verdicts = gate_pii(texts, EXAMPLE, analyzer)
    assert [v.reason for v in verdicts] == [None, "pii_email_address", None, None]
    assert [v.text for v in verdicts] == [None, None, "call <PHONE_NUMBER>", None]


def test_empty_list(analyzer):
    assert gate_pii([], EXAMPLE, analyzer) == []
    assert scan_pii([], EXAMPLE, analyzer) == []


def test_disabled_keeps_everything_without_the_analyzer():
    params = EXAMPLE.model_copy(update={"enabled": False})
    assert gate_pii(["mail a@example.com", "x"], params, _Untouchable()) == [KEEP, KEEP]


def test_no_configured_entities_keeps_everything_without_the_analyzer():
    assert gate_pii(["mail a@example.com"], PiiParams(), _Untouchable()) == [KEEP]


@pytest.mark.parametrize(("threshold", "found"), [(0.4, True), (0.5, False)])
def test_threshold_is_per_entity(analyzer, threshold, found):
    params = _params(PHONE_NUMBER=(threshold, "redact"), EMAIL_ADDRESS=(0.5, "reject"))
    findings = scan_pii(["call 415-555-0132"], params, analyzer)[0]
    assert bool(findings) is found


def test_only_configured_entities_are_reported(analyzer):
    params = _params(EMAIL_ADDRESS=(0.5, "reject"))
    text = "mail a@example.com or call 415-555-0132 from 10.0.0.1"
    assert [(f.entity, f.text) for f in scan_pii([text], params, analyzer)[0]] == [("EMAIL_ADDRESS", "a@example.com")]


def test_overlapping_findings_redact_once_with_the_top_label(analyzer):
    # a US-style phone number that is also a valid NHS number: both spans cover the same digits
    params = _params(PHONE_NUMBER=(0.4, "redact"), UK_NHS=(0.5, "redact"))
    findings = scan_pii(["call 212 555 0199"], params, analyzer)[0]
    assert {f.entity for f in findings} == {"PHONE_NUMBER", "UK_NHS"}
    assert gate_pii(["call 212 555 0199"], params, analyzer)[0].text == "call <UK_NHS>"


# --- redaction of spans ----------------------------------------------------------------------


def _f(entity: str, start: int, end: int, score: float) -> Finding:
    return Finding(entity, start, end, score, "")


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], "0123456789abcdefghij"),
        ([_f("A", 2, 5, 0.5)], "01<A>56789abcdefghij"),
        ([_f("A", 2, 5, 0.5), _f("B", 10, 12, 0.5)], "01<A>56789<B>cdefghij"),
        ([_f("B", 10, 12, 0.5), _f("A", 2, 5, 0.5)], "01<A>56789<B>cdefghij"),
        ([_f("A", 2, 6, 0.4), _f("B", 4, 9, 0.9)], "01<B>9abcdefghij"),  # partial overlap: merged, top score
        ([_f("A", 2, 9, 0.9), _f("B", 4, 6, 0.4)], "01<A>9abcdefghij"),  # nested
        ([_f("A", 2, 5, 0.4), _f("B", 4, 7, 0.6), _f("C", 6, 9, 0.5)], "01<B>9abcdefghij"),  # chain
        ([_f("A", 2, 5, 0.4), _f("B", 5, 8, 0.6)], "01<A><B>89abcdefghij"),  # adjacent: not merged
        ([_f("A", 0, 20, 0.4)], "<A>"),
    ],
)
def test_redact(findings, expected):
    assert redact("0123456789abcdefghij", findings) == expected


# --- pre-screen --------------------------------------------------------------------------------

_WORDS = ["refund", "order", "app", "plan", "invoice", "package", "account", "password", "settings", "delivery"]
_CLEAN = [
    "my {w} hasn't arrived yet",
    "the {w} page crashes when I open it",
    "cancel my {w} please.",
    "Why was my {w} charged twice? Thanks.",
    "I can't find the {w} anywhere, can you help",
    "hi team, quick question about the {w}: is it ready",
    "Re: {w} - still waiting!!",
    "customer says the {w} is broken... again",
    "please reset my {w} asap",
    "St. Louis office said the {w} is on hold, e.g. until Monday",
]
_PII = [
    "mail me at {name}@example.com",
    "contact {name}.{name}@mail.co.uk about it",
    "call 415-555-{d4}",
    "ring me on (212) 555-{d4} after 5",
    "my number is +44 20 7946 {d4}",
    "tel 020 7946 {d4}",
    "phone: ４１５-５５５-０１３２",
    "card 4111 1111 1111 1111 expires 04/27",
    "card 5500-0000-0000-0004",
    "use 378282246310005 please",
    "IBAN DE89 3704 0044 0532 0130 00",
    "iban GB82WEST12345698765432",
    "NL91ABNA0417164300 is my account",
    "blocked from {ip}",
    "ipv6 2001:db8::{d2} failed",
    "ipv6 dead:beef::cafe failed",
    "order #NW-{d5} missing",
    "order {d5} is late",
    "ticket {d6} reopened",
    "shipped on 2024-03-{d2}",
    "due 03/{d2}/2024",
    "ssn 536-22-{d4}",
    "paid $49.{d2} for it",
    "version 2.{d2}.1 broke login",
    "see example.com for details",
]


def _corpus(n: int = 2000, seed: int = 7) -> list[str]:
    """Deterministic mix of clean support messages and messages with PII or PII-like numbers."""
    rng = random.Random(seed)
    names = ["jane", "li", "omar", "sofia", "k", "bob99"]

    def fill(tpl: str) -> str:
        return tpl.format(
            w=rng.choice(_WORDS),
            name=rng.choice(names),
            d2=f"{rng.randrange(1, 29):02d}",
            d4=f"{rng.randrange(10000):04d}",
            d5=f"{rng.randrange(10000, 99999)}",
            d6=f"{rng.randrange(100000, 999999)}",
            ip=".".join(str(rng.randrange(256)) for _ in range(4)),
        )

    texts = []
    for _ in range(n):
        parts = [fill(rng.choice(_CLEAN))]
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            parts.insert(rng.randrange(len(parts) + 1), fill(rng.choice(_PII)))
        texts.append(rng.choice([" ", ", ", ". ", "\n"]).join(parts))
    return texts


def test_prescreen_is_lossless_on_a_varied_corpus(analyzer):
    texts = _corpus()
    assert len(texts) >= 2000
    on, off = _Counting(analyzer), _Counting(analyzer)
    screened = scan_pii(texts, EXAMPLE, on)
    full = scan_pii(texts, EXAMPLE.model_copy(update={"prescreen": False}), off)
    assert screened == full
    assert off.calls == len(texts)
    assert on.calls < 0.8 * len(texts)  # texts with no digit, "@" or ":" were skipped
    entities = {f.entity for fs in full for f in fs}
    assert entities == set(EXAMPLE.entities)  # the corpus exercises every configured entity


@pytest.mark.parametrize(
    ("entities", "analysed"),
    [
        ({"EMAIL_ADDRESS": (0.5, "reject")}, 1),
        ({"IP_ADDRESS": (0.5, "reject"), "DATE_TIME": (0.5, "redact")}, 1),
        ({"IP_ADDRESS": (0.5, "reject"), "URL": (0.5, "reject")}, 2),  # URL screens on "."
        ({"EMAIL_ADDRESS": (0.5, "reject"), "PERSON": (0.5, "reject")}, 1),  # name lists: screened by their words
        ({"EMAIL_ADDRESS": (0.5, "reject"), "LOCATION": (0.5, "reject")}, 3),  # place lists: no screen
        ({"EMAIL_ADDRESS": (0.5, "reject"), "UUID": (0.5, "reject")}, 3),  # not verified: no screen
    ],
)
def test_prescreen_applies_only_when_provably_lossless(analyzer, entities, analysed, monkeypatch):
    texts = ["no digits or at-signs here.", "note: nothing to see", "mail a@example.com from 10.0.0.1"]
    screen = _prescreen(sorted(entities), analyzer)
    assert (len(texts) if screen is None else sum(bool(screen.search(t)) for t in texts)) == analysed
    # past the prescreen, only the text with a raw recognizer result reaches the NLP pipeline (for the context
    # words), and its recognizers' results are reused: the analyzer never runs them again
    pipeline_runs = []
    process_text = analyzer.nlp_engine.process_text
    monkeypatch.setattr(analyzer.nlp_engine, "process_text", lambda text, language: pipeline_runs.append(text) or process_text(text, language))
    counting = _Counting(analyzer)
    found = scan_pii(texts, _params(**entities), counting)
    assert counting.calls == 0 and pipeline_runs == [texts[2]]
    monkeypatch.undo()
    assert found == scan_pii(texts, _params(prescreen=False, **entities), analyzer)


class _WithoutContextStep(_Counting):
    """A Presidio analyzer without the context-enhancement step the quick path reuses (another Presidio version)."""

    def __getattr__(self, name):
        if name == "_enhance_using_context":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_without_presidios_context_step_a_flagged_text_gets_the_full_analyzer_pass(analyzer):
    texts = ["no digits or at-signs here.", "call me on 212-555-0199 tomorrow", "mail a@example.com from 10.0.0.1",
             "my name is sally and my number is 0161 496 0000"]
    entities = {"EMAIL_ADDRESS": (0.5, "reject"), "PHONE_NUMBER": (0.4, "redact"), "IP_ADDRESS": (0.5, "reject"), "PERSON": (0.5, "redact")}
    without = _WithoutContextStep(analyzer)
    found = scan_pii(texts, _params(**entities), without)
    assert without.calls >= 2  # each flagged text with a context-word recognizer's result went through analyze()
    assert found == scan_pii(texts, _params(**entities), analyzer) == scan_pii(texts, _params(prescreen=False, **entities), analyzer)
    assert [bool(f) for f in found] == [False, True, True, True]


@pytest.mark.parametrize("text", ["blocked from dead:beef::cafe", "blocked from cafe::", "blocked from ::"])
def test_prescreen_keeps_ipv6_without_digits(analyzer, text):
    for prescreen in (True, False):
        params = _params(prescreen=prescreen, IP_ADDRESS=(0.1, "reject"))
        assert gate_pii([text], params, analyzer)[0].reason == "pii_ip_address"


# --- PERSON and LOCATION from name and place lists (no NER model) -------------------------------

NAMES = _params(PERSON=(0.5, "reject"), LOCATION=(0.5, "reject"))


def _found(analyzer, text: str, params: PiiParams = NAMES) -> set[tuple[str, str]]:
    return {(f.entity, f.text) for f in scan_pii([text], params, analyzer)[0]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, my name is Sarah Connor and my order is late", {("PERSON", "Sarah Connor")}),
        ("please ask Mr. Smith to call me back", {("PERSON", "Smith")}),
        ("The applicant, Mr A. Yılmaz, was arrested", {("PERSON", "A. Yılmaz")}),
        ("Dear Mark, the parcel never came", {("PERSON", "Mark")}),  # a common word, but after a greeting
        ("Thanks,\nEmily", {("PERSON", "Emily")}),
        ("I spoke to John yesterday about the refund", {("PERSON", "John")}),
        ("the courier gave it to Mrs van der Berg next door", {("PERSON", "van der Berg")}),
        ("Rose Thompson ordered it, not me", {("PERSON", "Rose Thompson")}),  # listed surname makes it a name
        ("my card was charged in Turkey and in the United Kingdom", {("LOCATION", "Turkey"), ("LOCATION", "United Kingdom")}),
        ("Hi, I am on vacation in Spain", {("LOCATION", "Spain")}),
        ("the hotel in Istanbul charged me twice", {("LOCATION", "Istanbul")}),
        ("ship it to 221 Baker Street please", {("LOCATION", "221 Baker Street")}),
        ("I moved to Jordan last year", {("LOCATION", "Jordan")}),  # also a first name: a place after "to"
    ],
)
def test_names_and_places_are_found(analyzer, text, expected):
    assert _found(analyzer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Will you refund me? I may need it by May.",
        "Mark my order as urgent",
        "my friend rose early and the rose was dead",
        "Rose gold case arrived scratched",
        "will may mark bill rose grant chase hope",  # names in lower case never fire
        "My card from Chase bank was declined",
        "Why is my Apple Pay not working?",
        "Hope you can help, the Summer sale price was wrong",
        "I want to grant access to my account",
        "Nice app, but the Reading list is gone",
        "PLEASE HELP MY ORDER IS MISSING",
        "Subject: Refund Not Received For Order",
        "the app crashes when I open settings",
        "",
    ],
)
def test_common_words_are_not_names_or_places(analyzer, text):
    assert _found(analyzer, text) == set()


def test_sentence_initial_lone_name_scores_below_the_default_threshold(analyzer):
    low = _params(PERSON=(0.3, "reject"))
    assert _found(analyzer, "John called about the order") == set()
    assert _found(analyzer, "John called about the order", low) == {("PERSON", "John")}


def test_only_the_configured_one_of_person_and_location(analyzer):
    text = "Sarah Connor lives in London"
    assert _found(analyzer, text, _params(PERSON=(0.5, "reject"))) == {("PERSON", "Sarah Connor")}
    assert _found(analyzer, text, _params(LOCATION=(0.5, "reject"))) == {("LOCATION", "London")}
    # without PERSON/LOCATION in params, the other entities behave as before: no names, no places
    assert _found(analyzer, "mail sarah.connor@example.com in London", EXAMPLE) == {("EMAIL_ADDRESS", "sarah.connor@example.com")}


def test_names_redact_and_reject(analyzer):
    redact_names = _params(PERSON=(0.5, "redact"), LOCATION=(0.5, "reject"))
    (v,) = gate_pii(["hello, my name is Sarah Connor"], redact_names, analyzer)
    assert v.reason is None and v.text == "hello, my name is <PERSON>"
    (v,) = gate_pii(["I live in Germany"], redact_names, analyzer)
    assert v.reason == "pii_location"


def test_location_disables_the_prescreen_and_person_uses_the_name_words(analyzer):
    # a place needs no digit or "@": the screen would lose it, so none is used; a name needs a listed name word
    assert _prescreen(["EMAIL_ADDRESS", "LOCATION"], analyzer) is None
    counting = _Counting(analyzer)
    params = _params(EMAIL_ADDRESS=(0.5, "reject"), PERSON=(0.5, "reject"))
    screen = _prescreen(sorted(params.entities), analyzer)
    assert screen.search("ask Mr. Smith") and screen.search("call bob") and not screen.search("no pii here")
    found = scan_pii(["ask Mr. Smith", "no pii here"], params, counting)
    assert counting.calls == 0  # name-list results need no context enhancement: filtered and deduplicated here
    assert [(f.entity, f.text) for f in found[0]] == [("PERSON", "Smith")]


def test_few_false_positives_on_ordinary_support_messages(analyzer):
    texts = _corpus(600, seed=11)
    flagged = [t for t, fs in zip(texts, scan_pii(texts, NAMES, analyzer)) if fs]
    # the corpus names no person; its "St. Louis" is a place and may fire, nothing else may
    assert all("Louis" in t for t in flagged), flagged[:5]


def test_lists_come_from_faker_without_network(analyzer, monkeypatch):
    from synthkit.gates import pii

    monkeypatch.setattr(socket.socket, "connect", lambda *a, **k: (_ for _ in ()).throw(OSError("no network")))
    lex = pii._lexicon()
    assert {"Sarah", "John", "Mehmet"} <= lex.first and "Smith" in lex.last
    assert ("United", "Kingdom") in lex.places["United"]
    assert "may" in lex.common and "will" in lex.common


def test_missing_faker_is_an_input_error(monkeypatch):
    from synthkit.gates import pii

    pii._lexicon.cache_clear()
    monkeypatch.setitem(sys.modules, "faker.providers.date_time", None)
    try:
        with pytest.raises(InputError) as exc:
            pii._lexicon()
        assert "faker" in exc.value.message
    finally:
        monkeypatch.undo()
        pii._lexicon.cache_clear()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("lodged on 29 November 1996 with the court", "29 November 1996"),
        ("judgment of March 12, 2004 was final", "March 12, 2004"),
        ("in Sept. 2003 the applicant", "Sept. 2003"),
        ("may I have a refund for order 2004", None),
        ("my plan renews on the 3rd", None),
    ],
)
def test_written_dates_are_date_time(text, expected):
    from synthkit.config import PiiParams
    from synthkit.gates.pii import build_analyzer, scan_pii

    params = PiiParams(entities={"DATE_TIME": {"threshold": 0.5}})
    [findings] = scan_pii([text], params, build_analyzer(None))
    assert [f.text for f in findings] == ([expected] if expected else [])


# --- quick path: raw recognizer results without the NLP pipeline decide whether the analyzer runs -----


def test_quick_path_matches_the_full_analyzer_with_names_and_places(analyzer):
    texts = _corpus(800, seed=5) + ["ask Mr. Smith about it", "I moved from Germany to Lyon", "hi Sarah, call 555-0100"]
    params = _params(PERSON=(0.3, "reject"), LOCATION=(0.3, "reject"), PHONE_NUMBER=(0.3, "redact"), DATE_TIME=(0.3, "redact"))
    quick, full = _Counting(analyzer), _Counting(analyzer)
    assert scan_pii(texts, params, quick) == scan_pii(texts, params.model_copy(update={"prescreen": False}), full)
    assert full.calls == len(texts) and quick.calls < len(texts)
    assert any(f.entity == "PERSON" for fs in scan_pii(texts[-3:], params, analyzer) for f in fs)


def test_quick_path_needs_recognizers_that_ignore_nlp_artifacts(analyzer):
    from presidio_analyzer import LocalRecognizer, RecognizerResult

    from synthkit.gates.pii import _quick_recognizers

    class NeedsTokens(LocalRecognizer):
        """A custom recognizer that reads the NLP tokens: its raw results need the pipeline."""

        def load(self):
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            return [RecognizerResult("EMAIL_ADDRESS", 0, len(nlp_artifacts.tokens[0]), 0.9)]

    assert _quick_recognizers(analyzer, ["EMAIL_ADDRESS", "PHONE_NUMBER"]) is not None
    custom = build_analyzer(None)
    custom.registry.add_recognizer(NeedsTokens(supported_entities=["EMAIL_ADDRESS"]))
    assert _quick_recognizers(custom, ["EMAIL_ADDRESS"]) is None
    params = _params(EMAIL_ADDRESS=(0.5, "reject"))
    assert gate_pii(["plain words, no at-sign@"], params, custom)[0].reason == "pii_email_address"


PHONE_LIKE = [
    "call +49 30 901820", "ruf 030 901820 an", "Tel. 0228 1234", "pager 0164 1234", "+44 20 7946 0958 please",
    "call 020 7946 0958 ext. 123", "(212) 555-0100 x12", "212.555.0100", "call 2125550100 now", "011 44 20 7946 0958",
    "00 49 30 901820", "+1-800-FLOWERS", "1-800-356-9377", "+33 1 42 68 53 00", "+972-3-1234567", "+91 98765 43210",
    "+55 11 91234-5678", "+43 1 234", "+49 1234", "＋49 30 901820", "tel: 030/901820", "06221 1234567",
    "my number is 555-0100 and my order is 12345", "4111 1111 1111 1111", "4111-1111-1111-1111", "536.22.1234",
    "536-22-1234", "536221234", "12345-6789", "ip 192.168.0.1", "ip fe80::1", "ip ::ffff:10.0.0.1", "ip ::",
    "iban gb82west12345698765432", "IBAN GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00",
    "refund $45.23 for order #NW-12345", "x1x2x3x4 5x6x7", "1x2x3x4x5x6x7x8x9x0", "Order 12 34 56 78 90",
    "١٢٣٤٥٦٧٨٩٠ call", "call ０３０ ９０１８２０", "reach me at a.b@example.com or 030 901820",
]  # fmt: skip


def test_screens_agree_with_the_full_analyzer_on_phone_like_texts(analyzer):
    params = _params(
        PHONE_NUMBER=(0.0, "redact"), CREDIT_CARD=(0.0, "reject"), US_SSN=(0.0, "reject"), IP_ADDRESS=(0.0, "reject"),
        IBAN_CODE=(0.0, "reject"), EMAIL_ADDRESS=(0.0, "reject"),
    )  # fmt: skip
    texts = PHONE_LIKE + [f"{a}. {b}" for a, b in zip(PHONE_LIKE, reversed(PHONE_LIKE))]
    full = scan_pii(texts, params.model_copy(update={"prescreen": False}), analyzer)
    assert scan_pii(texts, params, analyzer) == full
    found = {f.entity for fs in full for f in fs}
    assert found == {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "IBAN_CODE", "EMAIL_ADDRESS"}


def test_screens_are_active_for_the_installed_presidio(analyzer):
    from synthkit.gates.pii import _PATTERN_SCREENS, _phone_min_digits, _quick_recognizers

    quick = dict((type(rec).__name__, screen) for rec, screen in _quick_recognizers(analyzer, sorted(EXAMPLE.entities)))
    assert quick["PhoneRecognizer"] == "phone"
    for name in ("EmailRecognizer", "IpRecognizer", "UsSsnRecognizer", "CreditCardRecognizer", "IbanRecognizer"):
        assert quick[name] is _PATTERN_SCREENS[name][1], f"{name}: its regexes changed; re-derive its screen"
    # the least digits for a valid number: German numbers from 4 digits (pagers), US ones from 7 (NANPA regions)
    assert _phone_min_digits("DE", False) == 4 and _phone_min_digits("US", False) == 7
    assert _phone_min_digits("US", True) <= 6  # "+43 1 234"-style international numbers
