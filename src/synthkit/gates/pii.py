"""PII gate: Presidio findings per text, per-entity thresholds, reject or redact, with a lossless pre-screen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

from synthkit.config import PiiParams
from synthkit.errors import InputError
from synthkit.gates.base import KEEP, Verdict

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

LANGUAGE = "en"

# Entity -> (a regex every match of it contains, the Presidio recognizer classes allowed to emit it).
# Checked against presidio-analyzer 2.2.366: every regex of these recognizers needs a digit ([0-9] or \d),
# except EmailRecognizer ([@]), UrlRecognizer ([.] before the TLD) and IPv6 (every form holds "::" or ":"
# then a hex digit); PhoneRecognizer uses phonenumbers' matcher, whose candidates start with a \d (Unicode
# Nd) digit sequence. DATE_TIME and PHONE_NUMBER can also come from a NER model (SpacyRecognizer):
# screenable only on a pipeline without components. The prescreen-equivalence test guards this table.
_SCREENABLE: dict[str, tuple[str, frozenset[str]]] = {
    "EMAIL_ADDRESS": ("@", frozenset({"EmailRecognizer"})),
    "PHONE_NUMBER": (r"\d", frozenset({"PhoneRecognizer"})),
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
    "DATE_TIME": (r"\d", frozenset({"DateRecognizer"})),
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
    return AnalyzerEngine(nlp_engine=engine, supported_languages=[LANGUAGE])


def _prescreen(entities: list[str], analyzer: AnalyzerEngine) -> re.Pattern[str] | None:
    """A regex every text with a finding must match, or None when no such cheap check is provably lossless."""
    if not entities or any(e not in _SCREENABLE for e in entities):
        return None
    nlp = getattr(analyzer.nlp_engine, "nlp", None) or {}
    blank = LANGUAGE in nlp and not nlp[LANGUAGE].pipe_names
    for rec in analyzer.registry.get_recognizers(language=LANGUAGE, entities=entities):
        name = type(rec).__name__
        for entity in set(rec.supported_entities) & set(entities):
            if name not in _SCREENABLE[entity][1] and not (name == "SpacyRecognizer" and blank):
                return None
    return re.compile("|".join(sorted({_SCREENABLE[e][0] for e in entities})), re.IGNORECASE)


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
    out: list[list[Finding]] = []
    for text in texts:
        if screen is not None and not screen.search(text):
            out.append([])
            continue
        results = analyzer.analyze(text=text, language=LANGUAGE, entities=entities, score_threshold=floor)
        found = [
            Finding(r.entity_type, r.start, r.end, float(r.score), text[r.start : r.end])
            for r in results
            if r.entity_type in thresholds and r.score >= thresholds[r.entity_type]
        ]
        out.append(sorted(found, key=lambda f: (f.start, f.end, f.entity, -f.score)))
    return out


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
