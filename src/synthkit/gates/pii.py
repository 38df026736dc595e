"""PII gate: Presidio findings per text, per-entity thresholds, reject or redact, with a lossless pre-screen."""

from __future__ import annotations

import calendar
import functools
import os
import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

from synthkit.config import PiiParams
from synthkit.errors import InputError
from synthkit.gates.base import KEEP, Verdict
from synthkit.gates.pii_informal import (
    EMAIL_SCREEN,
    PHONE_WORD_SCREEN,
    LowerLexicon,
    could_hold_name,
    find_lower_people,
    forget_answers,
    informal_recognizers,
    lower_lexicon,
    may_hold_email,
    may_hold_spoken_phone,
    span_results,
)
from synthkit.gates.pool import sigint_blocked, worker_pool
from synthkit.progress import progress

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

LANGUAGE = "en"

# Entity -> (a regex every match of it contains, the Presidio recognizer classes allowed to emit it).
# Checked against presidio-analyzer 2.2.366: every regex of these recognizers needs a digit ([0-9] or \d),
# except EmailRecognizer ([@]), UrlRecognizer ([.] before the TLD) and IPv6 (every form holds "::" or ":"
# then a hex digit); PhoneRecognizer uses phonenumbers' matcher, whose candidates start with a \d (Unicode
# Nd) digit sequence. InformalEmailRecognizer and SpokenPhoneRecognizer (pii_informal) state their own.
# DATE_TIME and PHONE_NUMBER can also come from a NER model (SpacyRecognizer): screenable only on a pipeline
# without components. The prescreen-equivalence test guards this table.
_SCREENABLE: dict[str, tuple[str, frozenset[str]]] = {
    "EMAIL_ADDRESS": (EMAIL_SCREEN.pattern, frozenset({"EmailRecognizer", "InformalEmailRecognizer"})),
    "PHONE_NUMBER": (PHONE_WORD_SCREEN.pattern, frozenset({"PhoneRecognizer", "SpokenPhoneRecognizer"})),
    "CREDIT_CARD": (r"\d", frozenset({"CreditCardRecognizer"})),
    "IBAN_CODE": (r"\d", frozenset({"IbanRecognizer"})),
    "IP_ADDRESS": (r"\d|:[:0-9a-f]", frozenset({"IpRecognizer"})),
    "US_SSN": (r"\d", frozenset({"UsSsnRecognizer"})),
    "US_BANK_NUMBER": (r"\d", frozenset({"UsBankRecognizer"})),
    "US_DRIVER_LICENSE": (r"\d", frozenset({"UsLicenseRecognizer"})),
    "US_PASSPORT": (r"\d", frozenset({"UsPassportRecognizer"})),
    "US_ITIN": (r"\d", frozenset({"UsItinRecognizer"})),
    "UK_NHS": (r"\d", frozenset({"NhsRecognizer"})),
    "CRYPTO": (r"\d", frozenset({"CryptoRecognizer"})),
    "MEDICAL_LICENSE": (r"\d", frozenset({"MedicalLicenseRecognizer"})),
    "DATE_TIME": (r"\d", frozenset({"DateRecognizer", "WrittenDateRecognizer"})),
    "URL": (r"\.", frozenset({"UrlRecognizer"})),
}


@dataclass(frozen=True)
class Finding:
    """One PII span Presidio found in a text, at or above its entity's threshold."""

    entity: str
    start: int
    end: int
    score: float
    text: str


def _offline_tldextract() -> None:
    """Point tldextract (used by Presidio's email recognizer) at its bundled suffix list, never the network."""
    import tldextract
    import tldextract.tldextract as tld_module

    if tld_module.TLD_EXTRACTOR.suffix_list_urls:
        tld_module.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def build_analyzer(spacy_model: str | None = None) -> AnalyzerEngine:
    """A Presidio analyzer on a blank local spaCy English pipeline, or on the named installed spaCy model."""
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    if spacy_model is None:
        nlp = spacy.blank(LANGUAGE)
    else:
        try:
            nlp = spacy.load(spacy_model)
        except OSError:
            raise InputError(
                "params.yaml",
                f"spaCy model '{spacy_model}' is not installed; install it or set filter.pii.spacy_model: null",
                field="filter.pii.spacy_model",
            ) from None

    class _LocalSpacyEngine(SpacyNlpEngine):
        """A SpacyNlpEngine over an already-built pipeline (no download)."""

        def load(self) -> None:
            """Use the pipeline built above."""
            self.nlp = {LANGUAGE: nlp}

    _offline_tldextract()
    engine = _LocalSpacyEngine(models=[{"lang_code": LANGUAGE, "model_name": spacy_model or "blank:en"}])
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=[LANGUAGE])
    analyzer.registry.add_recognizer(_written_date_recognizer())
    # Spelled-out email addresses and phone numbers in words, with or without a NER model.
    for recognizer in informal_recognizers(lambda: (_lexicon().common, _lexicon().lower.first)):
        analyzer.registry.add_recognizer(recognizer)
    if "ner" not in nlp.pipe_names:
        # No NER model: PERSON and LOCATION come from name and place lists (loaded on first use only).
        for recognizer in _list_recognizers():
            analyzer.registry.add_recognizer(recognizer)
    return analyzer


_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"


def _written_date_recognizer():
    """DATE_TIME for dates written with a month name ("12 March 2004", "March 12, 2004", "March 2004"); every form holds a digit."""
    from presidio_analyzer import Pattern, PatternRecognizer

    class WrittenDateRecognizer(PatternRecognizer):
        """Presidio's DateRecognizer matches numeric dates only; this adds month-name dates."""

    patterns = [
        Pattern("day_month_year", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\s+\d{{4}}\b", 0.6),
        Pattern("month_day_year", rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", 0.6),
        Pattern("month_year", rf"\b{_MONTHS}\s+\d{{4}}\b", 0.5),
    ]
    return WrittenDateRecognizer(supported_entity="DATE_TIME", patterns=patterns, name="WrittenDateRecognizer", supported_language=LANGUAGE)


# --- PERSON and LOCATION without a NER model: name and place lists from faker ----------------------

# Faker locales whose person providers hold Latin-script first and last names.
_NAME_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT",
    "pt_PT", "nl_NL", "pl_PL", "tr_TR", "cs_CZ", "ro_RO",
)  # fmt: skip
# (locale, attribute) of faker address providers that list real places (not generated ones).
_PLACE_LISTS = (
    ("en", "countries"), ("en_US", "states"), ("en_GB", "counties"), ("en_IE", "counties"),
    ("en_IN", "cities"), ("en_IN", "states"), ("de_DE", "cities"), ("de_AT", "cities"), ("de_CH", "cities"),
    ("fr_FR", "regions"), ("it_IT", "states"), ("es_ES", "states"), ("pl_PL", "cities"), ("pt_PT", "cities"),
    ("cs_CZ", "cities"), ("ro_RO", "cities"), ("hr_HR", "cities"), ("fi_FI", "cities"), ("da_DK", "cities"),
    ("sv_SE", "states"), ("id_ID", "cities"),
)  # fmt: skip
# English words that are also given names, surnames or place names; capitalized, they are a name only in a
# name context (a title, a full name, "my name is", a greeting or sign-off), a place only after a preposition.
_AMBIGUOUS = frozenset(
    """will may mark bill rose grant chase hope faith joy summer autumn winter spring art sue guy ray don pat
    jack frank dean dawn eve ivy lily daisy iris holly ruby amber crystal penny sandy rusty rich miles lane page
    price max sky star sunny happy honey angel precious destiny harmony melody trinity genesis unity liberty
    justice hunter cash chance chip buck drew gene jean jewel kit mercy misty sage river storm rain brook dale
    glen heath cliff forest stone wade pierce hardy royal king young white black brown green gray grey long
    short little bell hall wood hill field ford case house church ball glass hand key wall best good strong
    small west north south east early major general reason media star rock red son sister doctor baby author
    lawyer friend else floor lot us job add carry hence less ever true sing nice reading mobile split orange
    bath deal bay van lee sun ash lucky dash alexa siri cortana echo apple amazon prime visa""".split()
)
_TITLES = frozenset(
    """mr mrs ms miss mx dr prof professor sir dame lord lady madam madame mme mlle monsieur herr frau
    judge justice president rev reverend father sister brother officer captain capt sgt sergeant""".split()
)
_PARTICLES = frozenset("van von der den de del della di da dos du la le bin ibn al el ter ten".split())
# Words just before a name that mark it as a name; the strong ones admit a name that is also a common word.
_STRONG_CUE = re.compile(
    r"(?:\b(?:my name is|name is|name's|named|called|signed|attn|attention|ask for|dear|hi|hello|hey)\s*[:,-]?"
    r"|\bname\s*:|\b(?:regards|sincerely|cheers|thanks|thank you|best|yours)\s*[,\n-])\s*$",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(
    r"\b(?:i'?m|i am|this is|it'?s|spoke (?:to|with)|talked (?:to|with)|speak (?:to|with)|contact|with|agent|"
    r"customer|colleague|manager|husband|wife|son|daughter|mother|father|mom|mum|dad|friend|by|to|and|for)\s*,?\s*$",
    re.IGNORECASE,
)
_LOCATIVE = re.compile(
    r"\b(?:in|from|to|at|near|via|across|outside|inside|around|visiting|visit|between|into|towards?|of|"
    r"live|lives|living|based|moved|flew|fly|flying|travel(?:l?ing)?|trip)\s*$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")
_STREET = re.compile(
    r"\b(?:\d{1,5}[A-Za-z]?,?\s+)?(?:[A-Z][a-z]+\s+){1,3}"
    r"(?:Street|Road|Avenue|Lane|Boulevard|Drive|Terrace|Crescent|Square|Place|Parkway|Highway|"
    r"St|Rd|Ave|Blvd)\b\.?"
)


@dataclass(frozen=True)
class _Lexicon:
    """Name and place lists, with the common English words they must not fire on alone."""

    first: frozenset[str]
    last: frozenset[str]
    places: dict[str, tuple[tuple[str, ...], ...]]  # first word -> place phrases (as word tuples), longest first
    common: frozenset[str]  # lower-cased
    lower: LowerLexicon  # the same lists for lower-case chat text


def _faker_provider(kind: str, locale: str):
    import importlib

    return importlib.import_module(f"faker.providers.{kind}.{locale}").Provider


_SHIPPED_LEXICON: list = []  # the parent's lists, handed to a worker process (see _init_worker)


@functools.cache
def _lexicon() -> _Lexicon:
    """Build the lists once from faker's bundled locale data (no network, no model)."""
    if _SHIPPED_LEXICON:
        return _SHIPPED_LEXICON[0]
    try:
        from faker.providers.date_time import Provider as DateTimeProvider
        from faker.providers.lorem.en_US import Provider as Lorem
    except ImportError:
        raise InputError(
            "params.yaml",
            "PERSON and LOCATION without a spaCy NER model, and spelled-out email addresses, need the 'faker' "
            "package (name, place and word lists); install it or set filter.pii.spacy_model",
            field="filter.pii.entities",
        ) from None
    from spacy.lang.en.stop_words import STOP_WORDS

    colors = {c.lower() for c in _faker_provider("color", "en_US").all_colors}
    months = {m.lower() for m in (*calendar.month_name, *calendar.day_name) if m}
    common = frozenset({w.lower() for w in Lorem.word_list} | set(STOP_WORDS) | colors | months | _AMBIGUOUS)

    def single(words) -> set[str]:
        return {w for w in words if _TOKEN.fullmatch(w) and len(w) > 2 and w[0].isupper()}

    first: set[str] = set()
    last: set[str] = set()
    for locale in _NAME_LOCALES:
        person = _faker_provider("person", locale)
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first |= single(getattr(person, attr, None) or ())
        for attr in ("last_names", "last_names_male", "last_names_female"):
            last |= single(getattr(person, attr, None) or ())
    phrases: set[tuple[str, ...]] = set()
    raw = [c.name for c in DateTimeProvider.countries] + [c.capital for c in DateTimeProvider.countries]
    raw += [tz.split("/")[-1].replace("_", " ") for c in DateTimeProvider.countries for tz in c.timezones]
    for locale, attr in _PLACE_LISTS:
        raw += list(getattr(_faker_provider("address", locale), attr, None) or ())
    for name in raw:
        name = re.sub(r"\s*\(.*?\)", "", name).strip()
        words = tuple(m.group() for m in _TOKEN.finditer(name))
        if words and " ".join(words) == name and all(w[0].isupper() or w.lower() in _PARTICLES | {"and", "of", "the"} for w in words):
            if len(words) > 1 or len(words[0]) > 2:
                phrases.add(words)
    places: dict[str, list[tuple[str, ...]]] = {}
    for words in phrases:
        places.setdefault(words[0], []).append(words)
    ordered = {k: tuple(sorted(v, key=lambda w: (-len(w), w))) for k, v in places.items()}
    lower = lower_lexicon(frozenset(first), frozenset(last), common, frozenset(STOP_WORDS), ordered, _TITLES)
    return _Lexicon(frozenset(first), frozenset(last), ordered, common, lower)


def _capitalized(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() if len(word) > 1 else False


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Word tokens as (start, end, word), a trailing possessive 's cut off."""
    out = []
    for m in _TOKEN.finditer(text):
        word = _POSSESSIVE.sub("", m.group())
        out.append((m.start(), m.start() + len(word), word))
    return out


def _sentence_start(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
    """The token opens the text, a sentence, a line or a quoted/bulleted item."""
    before = text[tokens[i - 1][1] : tokens[i][0]] if i else text[: tokens[i][0]]
    if i == 0:
        return True
    if tokens[i - 1][2].lower() in _TITLES:  # "Dr. Smith": the period ends a title, not a sentence
        return False
    return any(c in before for c in ".!?\n:;\"“(•*") or before.strip() in {"-", "–"}


def _joined(text: str, a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Two tokens are adjacent parts of one name: only spaces between them, or an initial's period."""
    gap = text[a[1] : b[0]]
    return gap == " " or (gap in {". ", "."} and len(a[2]) == 1)


def _find_people(text: str, lex: _Lexicon) -> list[tuple[int, int, float]]:
    if not could_hold_name(text, lex.lower):  # no listed name or title in any case: nothing below can fire
        return []
    tokens = _tokens(text)
    out: list[tuple[int, int, float]] = []
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        low = word.lower()
        prefix = text[max(0, start - 40) : start]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None

        def run(j: int, limit: int = 4) -> int:
            """Index after the capitalized name words (initials, particles) that follow tokens[j-1]."""
            while j < len(tokens) and limit and _joined(text, tokens[j - 1], tokens[j]):
                w = tokens[j][2]
                if _capitalized(w) and w.lower() not in lex.common or (len(w) == 1 and w.isupper()):
                    j, limit = j + 1, limit - 1
                elif w in _PARTICLES and j + 1 < len(tokens) and _capitalized(tokens[j + 1][2]):
                    j, limit = j + 1, limit - 1
                else:
                    break
            return j

        # 1. a title and capitalized words: "Mr Smith", "Dr. A. Yilmaz", "Ms van der Berg"
        if low in _TITLES and _capitalized(word) and nxt is not None:
            gap = text[end : nxt[0]]
            first_ok = _capitalized(nxt[2]) and nxt[2].lower() not in _TITLES or (len(nxt[2]) == 1 and nxt[2].isupper())
            first_ok = first_ok or (nxt[2] in _PARTICLES and run(i + 2) > i + 2)  # "Mrs van der Berg"
            if gap in {" ", ". "} and first_ok:
                j = run(i + 2)
                if not (j == i + 2 and len(tokens[i + 1][2]) == 1):  # not a bare initial
                    out.append((tokens[i + 1][0], tokens[j - 1][1], 0.85))
                    i = j
                    continue
        # 2. an initial and a listed surname: "J. Smith"
        if len(word) == 1 and word.isupper() and nxt is not None and nxt[2] in lex.last and _joined(text, tokens[i], nxt):
            if text[end : end + 1] == ".":
                out.append((start, nxt[1], 0.7))
                i += 2
                continue
        if word in lex.first and _capitalized(word):
            ambiguous = low in lex.common
            never = low in lex.lower.never  # a date or holiday word ("on March 28") is a name only in a full name
            j = run(i + 1, limit=3)
            if j > i + 1:
                # 3. a listed first name and capitalized words: "Sarah Connor", "Will Thompson" (surname listed),
                # "Jan Kowalski" (not "Easter Sunday")
                tail = [t[2] for t in tokens[i + 1 : j]]
                dated = never and any(t.lower() in lex.lower.never for t in tail)
                if not dated and (not ambiguous or any(t in lex.last for t in tail)):
                    out.append((start, tokens[j - 1][1], 0.85))
                    i = j
                    continue
            # 4. a first name alone: scored by its context
            if never:
                pass
            elif _STRONG_CUE.search(prefix):
                out.append((start, end, 0.75))
            elif not ambiguous and word not in lex.places and _WEAK_CUE.search(prefix):
                out.append((start, end, 0.7))
            elif not ambiguous and word not in lex.places:
                out.append((start, end, 0.35 if _sentence_start(text, tokens, i) else 0.6))
        i += 1
    # lower-case names in chat, and capitalised everyday-word names after a cue ("call Mark", "lunch with June")
    return out + find_lower_people(text, tokens, lex.lower, out)


def _find_places(text: str, lex: _Lexicon) -> list[tuple[int, int, float]]:
    tokens = _tokens(text)
    out: list[tuple[int, int, float]] = []
    i = 0
    while i < len(tokens):
        start, _, word = tokens[i]
        for phrase in lex.places.get(word, ()):
            j = i + len(phrase)
            if j > len(tokens) or tuple(t[2] for t in tokens[i:j]) != phrase:
                continue
            if any(text[tokens[k][1] : tokens[k + 1][0]] != " " for k in range(i, j - 1)):
                continue
            if len(phrase) > 1 or (word.lower() not in lex.common and word not in lex.first):
                out.append((start, tokens[j - 1][1], 0.85))
            elif _LOCATIVE.search(text[max(0, start - 30) : start]):
                out.append((start, tokens[j - 1][1], 0.6))  # "Nice", "Jordan", "Lincoln": only after "in", "from", ...
            else:
                continue
            i = j - 1
            break
        i += 1
    out += [(m.start(), m.end(), 0.7) for m in _STREET.finditer(text)]
    return out


def _list_recognizers() -> list:
    """PERSON and LOCATION recognizers over the faker name and place lists (Presidio imported lazily)."""
    from presidio_analyzer import LocalRecognizer

    class _ListRecognizer(LocalRecognizer):
        ENTITY = ""
        find = staticmethod(lambda text, lex: [])

        def __init__(self) -> None:
            super().__init__(supported_entities=[self.ENTITY], supported_language=LANGUAGE, name=type(self).__name__)

        def load(self) -> None:
            """Lists load on first analyze, so an analyzer without PERSON/LOCATION never needs them."""

        def analyze(self, text, entities, nlp_artifacts=None):
            if self.ENTITY not in entities:
                return []
            return span_results(self, self.ENTITY, type(self).find(text, _lexicon()))

    class NameListRecognizer(_ListRecognizer):
        ENTITY = "PERSON"
        find = staticmethod(_find_people)

    class PlaceListRecognizer(_ListRecognizer):
        ENTITY = "LOCATION"
        find = staticmethod(_find_places)

    return [NameListRecognizer(), PlaceListRecognizer()]


class _Screen:
    """Regexes, or the name lists' word check (PERSON from NameListRecognizer), that every text with a finding passes.

    A regex that holds letters (spelled-out addresses, number words) runs only on texts that contain "at" or a
    number word's first letters; the others run first."""

    def __init__(self, patterns: list[str], names: bool) -> None:
        fast = [p for p in patterns if p not in _SLOW_SCREENS]
        self.fast = re.compile("|".join(fast), re.IGNORECASE) if fast else None
        self.slow = [(_SLOW_SCREENS[p], re.compile(p, re.IGNORECASE)) for p in patterns if p in _SLOW_SCREENS]
        self.names = names

    def search(self, text: str) -> bool:
        if self.fast is not None and self.fast.search(text):
            return True
        for guard, rx in self.slow:
            if guard(text) and rx.search(text):
                return True
        return self.names and could_hold_name(text, _lexicon().lower)


# Cheap checks every match of a letter-bearing screen passes: "@" or "at" between white space or brackets; a digit
# or a number word.
_SLOW_SCREENS = {
    EMAIL_SCREEN.pattern: lambda text: may_hold_email(text.lower()),
    PHONE_WORD_SCREEN.pattern: may_hold_spoken_phone,
}


def _prescreen(entities: list[str], analyzer: AnalyzerEngine) -> _Screen | None:
    """A cheap check every text with a finding passes, or None when no such check is provably lossless."""
    patterned = [e for e in entities if e != "PERSON"]
    if not entities or any(e not in _SCREENABLE for e in patterned):
        return None
    blank = _blank_pipeline(analyzer)
    for rec in analyzer.registry.get_recognizers(language=LANGUAGE, entities=entities):
        name = type(rec).__name__
        for entity in set(rec.supported_entities) & set(entities):
            allowed = frozenset({"NameListRecognizer"}) if entity == "PERSON" else _SCREENABLE[entity][1]
            if name not in allowed and not (name == "SpacyRecognizer" and blank):
                return None
    return _Screen(sorted({_SCREENABLE[e][0] for e in patterned}), "PERSON" in entities)


def scan_pii(texts: list[str], params: PiiParams, analyzer: AnalyzerEngine) -> list[list[Finding]]:
    """Findings per text for the configured entities, each kept only at or above its entity's threshold."""
    entities = sorted(params.entities)
    if not entities:
        return [[] for _ in texts]
    supported = set(analyzer.get_supported_entities(language=LANGUAGE))
    for name in entities:
        if name not in supported:
            known = ", ".join(sorted(supported))
            field = f"filter.pii.entities.{name}"
            raise InputError("params.yaml", f"unknown PII entity (supported: {known})", field=field)
    thresholds = {name: e.threshold for name, e in params.entities.items()}
    floor = min(thresholds.values())
    screen = _prescreen(entities, analyzer) if params.prescreen else None
    try:
        todo = [i for i, text in enumerate(texts) if screen is None or screen.search(text)]
        out: list[list[Finding]] = [[] for _ in texts]
        workers = resolve_workers(params.workers)
        if workers > 1 and len(todo) >= 2 * params.chunk_size:
            found = _analyze_parallel([texts[i] for i in todo], entities, thresholds, params, workers)
        else:
            quick = _quick_recognizers(analyzer, entities) if params.prescreen else None
            found = [_analyze(analyzer, texts[i], entities, thresholds, floor, quick) for i in progress(todo, "pii")]
    finally:
        forget_answers()
    for i, findings in zip(todo, found):
        out[i] = findings
    return out


def _quick_recognizers(analyzer: AnalyzerEngine, entities: list[str]) -> list | None:
    """(recognizer, screen) pairs for `entities` when no recognizer reads the NLP artifacts, else None.

    AnalyzerEngine.analyze runs the spaCy pipeline on every text before any recognizer; its result is empty
    whenever every recognizer's raw result is. For pattern recognizers (the base analyze, which ignores
    nlp_artifacts), IbanRecognizer, PhoneRecognizer (phonenumbers) and the name/place list recognizers, the
    raw results can be had without the pipeline, so a text none of them flags skips it, and a text they flag
    gets the analyzer's filtering (and, for recognizers with context words, its context enhancement) of the
    same results (tests/test_scale.py and tests/gates/test_pii.py compare this with the full analyzer on the
    benchmark corpus and others). A screen (see _PATTERN_SCREENS) skips a recognizer that cannot match a text.
    SpacyRecognizer reports the pipeline's named entities: none on a pipeline without components, so it is left
    out there; on a real spaCy model it needs the pipeline and there is no quick path.
    """
    from presidio_analyzer import PatternRecognizer

    quick = []
    for rec in analyzer.registry.get_recognizers(language=LANGUAGE, entities=entities):
        name = type(rec).__name__
        if name == "SpacyRecognizer" and _blank_pipeline(analyzer):
            continue
        plain_pattern = isinstance(rec, PatternRecognizer) and type(rec).analyze is PatternRecognizer.analyze
        if not plain_pattern and name not in _NLP_FREE:
            return None
        quick.append((rec, _screen_for(rec)))
    return quick


def _blank_pipeline(analyzer: AnalyzerEngine) -> bool:
    """The analyzer's spaCy pipeline has no components (no NER, no lemmas): a tokenizer only."""
    nlp = getattr(analyzer.nlp_engine, "nlp", None) or {}
    return LANGUAGE in nlp and not nlp[LANGUAGE].pipe_names


# Recognizer classes whose analyze never reads nlp_artifacts (checked against presidio-analyzer 2.2.366).
_NLP_FREE = frozenset(
    {"PhoneRecognizer", "IbanRecognizer", "NameListRecognizer", "PlaceListRecognizer", "InformalEmailRecognizer", "SpokenPhoneRecognizer"}
)

# Per pattern recognizer: the sha256 (first 16 hex digits) of its regexes as read for this table, and what
# every match of them needs, given the text, its count of \d digits and the most digits in one of its letter-free
# windows (_window_digits). With other regexes (another Presidio version, custom patterns) the fingerprint differs and
# the recognizer runs on every text.
#   Email: "[@]". IP: every IPv6 form holds ":", every IPv4 form four octets of 1-3 [0-9] joined by ".".
#   US SSN: 9 digits joined by nothing or one of "- ." in each of its 5 patterns. Credit card: 4 + 3 + 3 + 3 digits
#   joined by nothing or one of "- ". IBAN: it opens with [A-Z]{2}[0-9]{2}, run case-insensitively (the screen takes
#   any two letters, so no case-folding rule of either regex engine can make it miss).
_IPV4_CORE = re.compile(r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
_IBAN_START = re.compile(r"[^\W\d_]{2}[0-9]{2}")
_PATTERN_SCREENS = {
    "EmailRecognizer": ("004723abbb67ff6c", lambda text, digits, window: "@" in text),
    "IpRecognizer": ("2e5b4e8ccce1e531", lambda text, digits, window: ":" in text or _IPV4_CORE.search(text) is not None),
    "UsSsnRecognizer": ("99e2c61f6a973b04", lambda text, digits, window: window >= 9),
    "CreditCardRecognizer": ("f619fa242c932c37", lambda text, digits, window: window >= 13),
    "IbanRecognizer": ("1f98697e78e08d67", lambda text, digits, window: _IBAN_START.search(text) is not None),
}


def _fingerprint(rec) -> str:
    import hashlib

    return hashlib.sha256("\n".join(p.regex for p in getattr(rec, "patterns", None) or ()).encode()).hexdigest()[:16]


def _screen_for(rec):
    """A (text, digits, window) -> bool test the recognizer needs to pass before it can match, None (always run),
    or "phone" (PhoneRecognizer: see _phone_for)."""
    name = type(rec).__name__
    if name == "PhoneRecognizer":
        return "phone"
    if name in _PATTERN_SCREENS and _fingerprint(rec) == _PATTERN_SCREENS[name][0]:
        return _PATTERN_SCREENS[name][1]
    return None


def _quick_results(recognizers: list, text: str, entities: list[str], thresholds: dict[str, float]) -> tuple[list, bool]:
    """The raw results of the recognizers (run without NLP artifacts, loaded on first use as the analyzer does), and
    whether any of them needs the analyzer's context enhancement.

    The analyzer changes a score only through context enhancement, which skips results of a recognizer without
    context words and with the base enhance_using_context; results of others need it (see _enhanced). Results below
    their entity's threshold from context-free recognizers can never be findings: with no result at or above its
    threshold and none that context could raise, the answer is ([], False).
    """
    from presidio_analyzer import EntityRecognizer

    digits = len(_DIGIT.findall(text))
    window = _window_digits(text) if digits else 0
    out = []
    contextual = False
    for rec, screen in recognizers:
        if screen == "phone":
            rec = _phone_for(rec, text, window)
            if rec is None:
                continue
        elif screen is not None and not screen(text, digits, window):
            continue
        if not rec.is_loaded:
            rec.load()
            rec.is_loaded = True
        results = rec.analyze(text=text, entities=entities, nlp_artifacts=None)
        if not results:
            continue
        _add_recognizer_id(results, rec)
        if rec.context or type(rec).enhance_using_context is not EntityRecognizer.enhance_using_context:
            contextual = True
        out += results
    if contextual or any(r.score >= thresholds.get(r.entity_type, 0.0) for r in out):
        return out, contextual
    return [], False


def _add_recognizer_id(results: list, rec) -> None:
    """Name the recognizer in each result's metadata where it does not (as AnalyzerEngine.analyze does)."""
    from presidio_analyzer import RecognizerResult

    for r in results:
        meta = r.recognition_metadata if r.recognition_metadata is not None else {}
        meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
        meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
        r.recognition_metadata = meta


def _enhanced(analyzer: AnalyzerEngine, text: str, raw: list, entities: list[str]) -> list | None:
    """The raw results of the recognizers after the analyzer's context enhancement (the NLP pipeline runs once for
    the context words, no recognizer runs again), or None when this Presidio has no such step to reuse."""
    enhance = getattr(analyzer, "_enhance_using_context", None)
    if enhance is None:
        return None
    recognizers = analyzer.registry.get_recognizers(language=LANGUAGE, entities=entities, all_fields=False)
    return enhance(text, raw, analyzer.nlp_engine.process_text(text, LANGUAGE), recognizers, None)


# --- phone numbers: only the regions a text holds enough digits for ----------------------------------
#
# PhoneRecognizer runs phonenumbers' matcher once per supported region (leniency VALID by default). A match
# needs phonenumbers.is_valid_number, so its national significant number (NSN) has one of the possible lengths
# of its region's metadata. The matcher's candidates are a lead character, digit blocks joined by up to four
# separators (of which "x" is the only letter) and an optional extension, which parsing strips before the NSN is
# read; so all NSN digits lie in one window of the text between letters other than "x" (letters turn into
# digits only when a number holds three, so each "x" is counted as a possible digit). Parsed in region R, a
# number is national (NSN length >= the shortest possible length of R's calling code), or international: after
# "+" (calling code + NSN digits), or after R's international dialling prefix (its digits too). A text whose
# windows hold fewer digits than the least of these cannot match in R, and R is skipped; tests compare this with
# the full recognizer (tests/gates/test_pii.py, tests/test_scale.py).
_DIGIT = re.compile(r"\d")
_DIGIT_OR_X = re.compile(r"[\dxX]")
_LETTERS_BUT_X = re.compile(r"[^\W\d_xX]+")
_PLUS = ("+", "\uff0b")


def _window_digits(text: str) -> int:
    """The most digits (an "x" counted as one) between two letters other than "x"."""
    return max(len(_DIGIT_OR_X.findall(w)) for w in _LETTERS_BUT_X.split(text))


@functools.cache
def _phone_min_digits(region: str, plus: bool) -> int:
    """The fewest digits a text needs for a VALID phone number match in `region` (with or without a plus sign)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

    def shortest(cc: int) -> int:
        lengths = []
        for code in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
            meta = PhoneMetadata.metadata_for_region_or_calling_code(cc, code)
            possible = list(meta.general_desc.possible_length or ()) if meta is not None and meta.general_desc else []
            lengths.append(min(possible) if possible else 1)
        return min(lengths, default=1)

    international = min(len(str(cc)) + shortest(cc) for cc in COUNTRY_CODE_TO_REGION_CODE)
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None:  # not a region phonenumbers knows: only "+" numbers parse
        return international if plus else 1_000
    via_prefix = _min_width(meta.international_prefix) + international if meta.international_prefix else international
    least = min(shortest(meta.country_code), via_prefix)
    return min(least, international) if plus else least


def _min_width(pattern: str) -> int:
    """The length of the shortest string a regex matches."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import sre_parse

    return int(sre_parse.parse(pattern).getwidth()[0])


def _phone_for(rec, text: str, window: int):
    """The recognizer restricted to the regions the text has enough digits for (None: no region left)."""
    if getattr(rec, "leniency", 1) is None or getattr(rec, "leniency", 1) < 1:
        return rec  # POSSIBLE leniency: lengths alone decide, local-only ones included; no screen
    plus = any(p in text for p in _PLUS)
    regions = tuple(r for r in rec.supported_regions if _phone_min_digits(r, plus) <= window)
    if not regions:
        return None
    if regions == tuple(rec.supported_regions):
        return rec
    copies = rec.__dict__.setdefault("_synthkit_by_regions", {})  # lives and dies with the recognizer
    if regions not in copies:
        import copy

        copies[regions] = copy.copy(rec)
        copies[regions].supported_regions = regions
    return copies[regions]


def _analyze(
    analyzer: AnalyzerEngine, text: str, entities: list[str], thresholds: dict[str, float], floor: float, quick: list | None = None
) -> list[Finding]:
    """The findings of one text at or above their entity's threshold, sorted by span.

    With `quick` (see _quick_recognizers), each recognizer runs once: a text no recognizer flags has no findings
    without running the analyzer's NLP pipeline, one flagged only by context-free recognizers gets the analyzer's own
    filtering and deduplication of their results, and one flagged by a recognizer with context words gets the
    analyzer's context enhancement of the same results (_enhanced). Without `quick`, AnalyzerEngine.analyze runs.
    """
    results = None
    if quick is not None:
        raw, contextual = _quick_results(quick, text, entities, thresholds)
        results = _enhanced(analyzer, text, raw, entities) if contextual else raw
    if results is None:  # no quick path, or a Presidio without the context step: the analyzer runs
        results = analyzer.analyze(text=text, language=LANGUAGE, entities=entities, score_threshold=floor)
    else:
        from presidio_analyzer import EntityRecognizer

        results = EntityRecognizer.remove_duplicates([r for r in results if r.score >= floor])
    found = [
        Finding(r.entity_type, r.start, r.end, float(r.score), text[r.start : r.end])
        for r in results
        if r.entity_type in thresholds and r.score >= thresholds[r.entity_type]
    ]
    return sorted(found, key=lambda f: (f.start, f.end, f.entity, -f.score))


def resolve_workers(workers: int) -> int:
    """Worker processes for a workers setting: 0 means one per core this process may run on."""
    if workers:
        return workers
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_WORKER_ANALYZER: AnalyzerEngine | None = None


def _init_worker(spacy_model: str | None, lexicon: _Lexicon | None) -> None:
    """Each worker process builds its own analyzer once, with the parent's name lists when it has built them."""
    global _WORKER_ANALYZER
    if lexicon is not None:
        _SHIPPED_LEXICON[:] = [lexicon]
    _WORKER_ANALYZER = build_analyzer(spacy_model)


def _analyze_chunk(texts: list[str], entities: list[str], thresholds: dict[str, float], quick: bool) -> list[list[Finding]]:
    floor = min(thresholds.values())
    recognizers = _quick_recognizers(_WORKER_ANALYZER, entities) if quick else None
    try:
        return [_analyze(_WORKER_ANALYZER, t, entities, thresholds, floor, recognizers) for t in texts]
    finally:
        forget_answers()


def _analyze_parallel(
    texts: list[str], entities: list[str], thresholds: dict[str, float], params: PiiParams, workers: int
) -> list[list[Finding]]:
    """Findings per text from `workers` spawned processes, in input order whatever order chunks finish in."""
    chunks = [texts[i : i + params.chunk_size] for i in range(0, len(texts), params.chunk_size)]
    lexicon = _lexicon() if _lexicon.cache_info().currsize else None  # building the lists takes seconds per process
    with worker_pool(workers, _init_worker, (params.spacy_model, lexicon)) as pool:
        with sigint_blocked():  # the workers start here, as the chunks are submitted
            futures = [pool.submit(_analyze_chunk, chunk, entities, thresholds, params.prescreen) for chunk in chunks]
        results = (future.result() for future in futures)  # input order; unlike pool.map, an interrupt cancels nothing
        return [findings for chunk in progress(results, "pii", total=len(futures)) for findings in chunk]


def redact(text: str, findings: list[Finding]) -> str:
    """Replace each span by <ENTITY>; overlapping spans merge and the highest-scoring finding names the merge."""
    groups: list[list[Finding]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if groups and f.start < max(g.end for g in groups[-1]):
            groups[-1].append(f)
        else:
            groups.append([f])
    for group in reversed(groups):
        start, end = min(f.start for f in group), max(f.end for f in group)
        label = max(group, key=lambda f: (f.score, f.end - f.start)).entity
        text = f"{text[:start]}<{label}>{text[end:]}"
    return text


def _describe(findings: list[Finding]) -> str:
    """Findings as 'ENTITY@start-end' items, never the matched text."""
    return ",".join(f"{f.entity}@{f.start}-{f.end}" for f in findings)


def gate_pii(texts: list[str], params: PiiParams, analyzer: AnalyzerEngine) -> list[Verdict]:
    """One verdict per text: drop on a 'reject' entity, keep redacted on 'redact' entities, else keep."""
    if not params.enabled:
        return [KEEP] * len(texts)
    verdicts: list[Verdict] = []
    for text, findings in zip(texts, scan_pii(texts, params, analyzer)):
        rejecting = [f for f in findings if params.entities[f.entity].action == "reject"]
        if rejecting:
            verdicts.append(Verdict(reason=f"pii_{rejecting[0].entity.lower()}", detail=_describe(findings)))
        elif findings:
            verdicts.append(Verdict(detail=_describe(findings), text=redact(text, findings)))
        else:
            verdicts.append(KEEP)
    return verdicts


def pii_versions() -> dict[str, str]:
    """Versions of the PII stack, for the manifest."""
    return {"presidio-analyzer": version("presidio-analyzer"), "spacy": version("spacy")}


@functools.cache
def _batch_analyzer(spacy_model: str | None) -> AnalyzerEngine:
    """One analyzer per engine worker process (e.g. a Ray worker), built on first use."""
    return build_analyzer(spacy_model)


def pii_batch(frame, params: PiiParams) -> list[Verdict]:
    """The PII gate over one engine batch (an in-process analyzer: the engine already spreads batches)."""
    if not params.enabled:
        return gate_pii(frame["text"].to_list(), params, None)
    return gate_pii(frame["text"].to_list(), params.model_copy(update={"workers": 1}), _batch_analyzer(params.spacy_model))
