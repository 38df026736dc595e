"""Word lists for names in chat text: every faker locale's names, words that are never a name, everyday-word names."""

from __future__ import annotations

import calendar
import functools
import importlib
import math
import pkgutil
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

EVERYDAY_FILE = Path(__file__).with_name("everyday_names.txt")
# A name is an everyday word too when its lower-case form is at least half as frequent as its capitalised form in
# spaCy's English lexeme probabilities (capitalised counts include every sentence-initial use of a common word),
# and the lower-case form is no rarer than e^-16.
EVERYDAY_RATIO = math.log(0.5)
EVERYDAY_FLOOR = -16.0

_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")

# Dates and holidays are never a person, in any casing: "on March 28", "jan 5th", "may 3", "see you sunday",
# "christmas eve". Nor is the addressee of a greeting that names no one ("hi team", "hello there").
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
WEEKDAY_ABBREVIATIONS = ("mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun")
HOLIDAYS = (
    "christmas", "xmas", "easter", "halloween", "thanksgiving", "hanukkah", "chanukah", "diwali", "eid", "ramadan",
    "passover", "kwanzaa", "valentine", "valentines", "pentecost", "lent", "advent", "hogmanay", "yom", "kippur",
    "purim", "holi", "navratri", "vesak", "carnival", "mardi", "gras", "epiphany", "whitsun", "michaelmas",
)  # fmt: skip
GREETED = (
    "team", "there", "all", "everyone", "everybody", "guys", "gals", "folks", "friends", "people", "yall", "world",
    "support", "sir", "madam", "maam", "mate", "buddy", "dude", "bro", "boss", "again", "you", "ya", "hun", "dear",
)  # fmt: skip


def date_words() -> frozenset[str]:
    """Month and weekday names and abbreviations, and holidays, lower-cased."""
    names = {m.lower() for m in (*calendar.month_name, *calendar.day_name) if m}
    return frozenset(names | set(MONTH_ABBREVIATIONS) | set(WEEKDAY_ABBREVIATIONS) | set(HOLIDAYS))


def function_words(stop_words: Iterable[str]) -> frozenset[str]:
    """Stop words, their forms typed without an apostrophe ("theres", "dont", "im") and with a plural "s"."""
    from spacy.lang.en.tokenizer_exceptions import TOKENIZER_EXCEPTIONS

    stops = {w.lower() for w in stop_words}
    contractions = {k.lower().replace("'", "").replace("’", "") for k in TOKENIZER_EXCEPTIONS if "'" in k or "’" in k}
    contractions = {w for w in contractions if w.isalpha() and len(w) > 1}
    return frozenset(stops | {w + "s" for w in stops if w.isalpha()} | contractions)


@functools.cache
def faker_names() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-cased single-word first names and surnames of every locale faker ships."""
    import faker.providers.person as person
    from faker import Generator

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated locales (fr_QC) warn on import
            provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider(Generator())
        for attrs, into in ((("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"), first),
                            (("last_names", "last_names_male", "last_names_female"), last)):  # fmt: skip
            for attr in attrs:
                into.update(w.lower() for w in getattr(provider, attr, None) or () if _TOKEN.fullmatch(w.lower()))
    return frozenset(first), frozenset(last)


def geo_places() -> frozenset[str]:
    """Lower-cased one-word real places in faker's geo provider ("boston", "odessa"): a place before a name."""
    from faker.providers.geo import Provider

    return frozenset(place[2].lower() for place in Provider.land_coords if _TOKEN.fullmatch(place[2]))


def everyday_names(probs: Mapping[str, float], names: Iterable[str]) -> list[str]:
    """The names whose lower-case form is an everyday English word by `probs` (word -> log probability, cased keys)."""
    out = []
    for name in names:
        low = probs.get(name)
        if low is None or low < EVERYDAY_FLOOR:
            continue
        cap = probs.get(name[:1].upper() + name[1:])
        if cap is None or low - cap >= EVERYDAY_RATIO:
            out.append(name)
    return sorted(out)


@functools.cache
def read_everyday() -> frozenset[str]:
    """The everyday-word names listed in everyday_names.txt (built by `python -m synthkit.gates.name_words`)."""
    lines = EVERYDAY_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def build_everyday_file(path: Path = EVERYDAY_FILE) -> int:
    """Write the everyday-word names of faker's name lists from spacy-lookups-data's English lexeme probabilities."""
    from spacy.lookups import load_lookups

    from synthkit.io import write_text

    probs = load_lookups("en", ["lexeme_prob"]).get_table("lexeme_prob")
    first, last = faker_names()
    words = everyday_names(probs, sorted(first | last))
    header = (
        "# Names from faker's locales whose lower-case form is an everyday English word: lower-case at least half as\n"
        "# frequent as capitalised in spacy-lookups-data's en lexeme_prob. Rebuild: python -m synthkit.gates.name_words\n"
    )
    write_text(header + "\n".join(words) + "\n", path)
    return len(words)


if __name__ == "__main__":  # needs spacy-lookups-data: uv run --with spacy-lookups-data==1.0.5 python -m ...
    print(f"{build_everyday_file()} words -> {EVERYDAY_FILE}", file=sys.stderr)
