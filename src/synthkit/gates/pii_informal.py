"""PII as people type it in chat: lower-case names in context, spelled-out email addresses, phone numbers in words."""

from __future__ import annotations

import functools
import itertools
import operator
import re
from dataclasses import dataclass

from synthkit.gates.name_words import GREETED, date_words, faker_names, function_words, geo_places, read_everyday

# --- lower-case names ---------------------------------------------------------------------------------
#
# A lower-case word from the first-name list is a name only where the words around it make it one: a cue before
# it ("call bob", "meeting with bob", "my name is bob", "my sister sarah"), a possessive before a person's thing
# ("susan's birthday", "susans birthday"), or a listed surname after it ("daniel bell"). A name that is also an
# everyday word (will, may, june, bill, mark, a place, a language) needs a cue that points at a person and must
# be followed by the end of the clause or a word that cannot continue a verb or noun phrase ("call mark at 5"
# yes, "mark my calendar", "may i", "bill payment", "june 5th" no).

# Everyday English words that are also given names in the faker lists, beyond the capitalised-text list in
# pii.py; lower-case text gives no capital letter to tell them apart.
_WORD_NAMES = frozenset(
    """ada ale alma amor ana ani april aura august baba bart bas bebe bibi cal canal cara carol cas che cherry chip
    clay cord cruz dale dev dex divan dora dusty earl ebony edit edu ember emerald ernest eta fay fern fidel
    flor flora forum gala gale garnet gay ginger giz gore grace harm harsh hatin hella heather holm honey ina
    iris isis ivory ivy jade jan jasmine java jet jude june karma kick kike kit lacey lada lance laurel laze lea
    lex lilo lina lino lore luce luz mar mara mare marina marine mart maud maxi meg meta mica mika mila mina
    mira misty nada nair nas nazi nova olive ole oni opal oran paz pearl peer pepper pia pier pina piper
    polly poppy puck rada raf rana raven reed rica rico roan robin roma rowan ruby sage santa sava scot sem sep
    sever shay sil sol sole sterling sue tia ties till tip tory toy tudor una urban verde violet wally willow
    wolf wren yara zeno zip sunny sonny rocky rusty sandy candy precious patience prudence constance charity
    honor valentine christian german roman georgian brit india philippine baptist""".split()
)
# Cities, states and countries that are also given names (the place lists in pii.py hold countries and regions,
# not most cities).
_PLACE_NAMES = frozenset(
    """austin dallas houston orlando denver phoenix jackson madison charlotte savannah florence sydney brooklyn
    aurora chelsea lincoln raleigh tyler augusta helena eugene jordan paris victoria alexandria camden darwin
    adelaide regina columbia marion trenton sherman vernon georgia virginia carolina dakota montana nevada
    kingston hamilton preston chester milan rome lima bali elba santiago diego francisco salvador""".split()
)
# Continents and regions that are also given names ("asia", "africa"); the place lists hold countries and cities.
_REGIONS = frozenset("asia africa europe america americas australia oceania antarctica arabia scandinavia caribbean".split())
# Short forms of English given names that the faker lists lack.
_NICKNAMES = frozenset(
    """will may matt mike dave jim bob ben sam alex nick tony joe steve andy dan pete rob tim greg jeff ed liz kate
    beth jen jess becky meg sue pat max ted ron don ken ray abby ally maddy nat vicky zach jake josh luke bill
    chris phil jon tom kat em ollie charlie freddie harry alfie archie sophie ellie millie katie""".split()
)
# Voice assistants and brands that are given names too: never a person in a command.
_NOT_PEOPLE = frozenset("alexa siri cortana bixby google echo chase wells fargo".split())

# Nouns that follow a person's possessive: "susan's birthday", "finlee's bedtime".
_PERSON_NOUNS = frozenset(
    """birthday bday b-day anniversary party wedding funeral graduation shower recital game practice lesson lessons
    phone cell mobile number email address house home place apartment flat room office desk school class teacher
    car bike flight train appointment meeting schedule calendar contact name mom mum dad mother father wife husband
    kid kids son daughter brother sister friend friends boyfriend girlfriend partner family parents baby dog cat
    pet account card gift present bedtime alarm reminder doctor dentist location whereabouts age favorite favourite
    number's email's birthdays boss job work""".split()
)
# Nouns that only people have, for a possessive typed without its apostrophe ("susans birthday", not "maurices card").
_PERSON_ONLY_NOUNS = frozenset(
    """birthday bday b-day anniversary party wedding funeral graduation shower recital phone cell mobile number email
    address house apartment mom mum dad mother father wife husband kid kids son daughter brother sister friend
    boyfriend girlfriend parents baby bedtime""".split()
)
# Words before a name that make it a name, by strength. The word lists also feed the screen (could_hold_name):
# a name that is an everyday word fires only after one of these words or before a person's noun.
_STRONG_PHRASES = (
    "my name is", "my names", "name is", "name's", "named", "call me", "calls me", "called me", "under the name",
    "by the name", "refer to me as", "known as", "go by", "goes by", "nickname is", "signed",
)  # fmt: skip
_GREETINGS = ("dear", "hi", "hello", "hey", "hiya", "yo")
_KIN_WORDS = (
    "friend", "mom", "mum", "mother", "dad", "father", "brother", "sister", "bro", "sis", "wife", "husband", "son",
    "daughter", "boss", "colleague", "coworker", "co-worker", "roommate", "neighbor", "neighbour", "uncle", "aunt",
    "auntie", "cousin", "grandma", "grandpa", "granny", "nephew", "niece", "girlfriend", "boyfriend", "partner",
    "fiance", "fiancee", "teacher", "coach", "manager", "mr", "mrs", "ms", "miss", "dr", "doctor", "professor",
    "prof", "sir", "mister",
)  # fmt: skip
_CONTACT_VERBS = (
    "call", "calling", "ring", "dial", "text", "texting", "txt", "message", "msg", "email", "e-mail", "ping", "tell",
    "ask", "remind", "invite", "notify", "inform", "facetime", "skype", "whatsapp", "dm", "thank", "congratulate",
    "meet", "contact", "pick up", "picking up", "drop off",
)  # fmt: skip
_CONTACT_NOUNS = ("phone", "sms", "mail", "contacts")  # verbs before a plain name; nouns first ("phone bill")
_SOCIAL_WORDS = (
    "meet", "meeting", "met", "lunch", "dinner", "breakfast", "brunch", "coffee", "drink", "drinks", "call", "chat",
    "talk", "talking", "spoke", "speak", "speaking", "date", "appointment", "hang out", "hanging out", "play",
    "playing", "playdate", "share", "sharing", "shared", "sync", "catch up", "session", "interview", "conference",
    "game", "movie", "trip", "event", "plans", "location", "go", "going", "went",
)  # fmt: skip
_VERB_OPENERS = (
    "please", "pls", "plz", "to", "and", "then", "can you", "could you", "would you", "will you", "i", "we", "you",
    "let's", "lets", "need to", "want to", "gotta", "should", "must", "for", "me", "us", "not", "don't", "dont",
    "also", "just", "now", "later", "go",
)  # fmt: skip


def _alternatives(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_STRONG = re.compile(
    rf"(?:\b(?:{_alternatives(_STRONG_PHRASES)})|\bname\s*:"
    rf"|(?:^|[.!?,;:\n])\s*(?:{_alternatives(_GREETINGS)}))\s*[:,-]?\s*$"  # a greeting opens its sentence ("play hey jude")
)
_KIN = re.compile(rf"\b(?:{_alternatives(_KIN_WORDS)})\s*,?\s*$")
_CONTACT = re.compile(rf"\b(?:{_alternatives(_CONTACT_VERBS + _CONTACT_NOUNS)})\s*$")
# Contact words that are nouns too ("text message", "email address"): before a name that is also an everyday
# word they count only as a verb: first in their clause or after a word that opens a verb phrase.
_CONTACT_VERB = re.compile(rf"(?:^|[.!?,;:\n]|\b(?:{_alternatives(_VERB_OPENERS)}))\s*(?:{_alternatives(_CONTACT_VERBS)})\s*$")
_WITH_SOCIAL = re.compile(rf"\b(?:{_alternatives(_SOCIAL_WORDS)})\b(?:\s+[a-z']+){{0,3}}?\s+with\s*$")
_WITH = re.compile(r"\bwith\s*$")
# "sign in with okta", "pay with klarna", "continue with google": "with" after signing in or paying names a service
_SERVICE_WITH = re.compile(
    r"\b(?:sign(?:s|ed|ing)?[\s-]*(?:in|on|up)|log(?:s|ged|ging)?[\s-]*(?:in|on)|login|signin|continue|pay(?:s|ing)?|paid|"
    r"checkout|check\s+out|authenticate|register|top(?:s|ped|ping)?[\s-]*up|fund(?:s|ed|ing)?|load(?:s|ed|ing)?|"
    r"deposit(?:s|ed|ing)?|buy(?:s|ing)?|bought|purchas(?:e|es|ed|ing))\s+with\s*$"
)
# A capitalised word inside a sentence or after a colon ("hi Northwind team", "Customer: La app"): the writer
# capitalises names
_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[a-z,:] )[A-Z][a-z]+")
_TO = re.compile(
    r"\b(?:send|sent|give|gave|talk|talked|speak|spoke|write|wrote|reply|replied|respond|say|said|forward|introduce|"
    r"transfer|pay|paid|lend|lent|owe|text|email|message|show|read|wave|explain|deliver|return|mail|wish)\b"
    r"(?:\s+[a-z0-9$'.]+){0,4}?\s+to\s*$"
)
_FROM = re.compile(
    r"\b(?:message|messages|text|texts|email|emails|mail|call|calls|voicemail|note|letter|gift|card|hear|heard|news|"
    r"reply|invite|invitation|request|photos?|pictures?)\s+from\s*$"
)
_FOR = re.compile(
    r"\b(?:contact|gift|present|card|booking|reminder|appointment|tickets?|surprise|party|cake|flowers|note|message|"
    r"birthday|something)\s+for\s*$"
)
_SELF = re.compile(r"\b(?:i'?m|im|i am|this is|it'?s|its|it is)\s*$")
# What may follow a name that is also an everyday word: the end of the clause, a conjunction, a preposition,
# a time word; "mark my", "may i", "will it", "bill payment" continue a verb or noun phrase instead.
_FOLLOWERS = frozenset(
    """and or but about at on to that if when in for from back later now tonight today tomorrow please pls plz asap
    re regarding this next so again too also saying telling asking i'm im i'll he's she's hes shes is was has
    said says wants needs happy merry congrats congratulations thanks thank hi hello hey good""".split()
)
_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")  # as pii._TOKEN
_POSSESSIVE_END = re.compile(r"['’]s$")  # as pii._POSSESSIVE
_ASCII_INITIAL = re.compile(r"[A-Z]\.")
_INITIAL = re.compile(r"(?<![^\W\d_])[^\W\d_]\.")
_FOLLOWER = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


# Every word of the cues an everyday-word name needs (strong, kin, contact, social "with", a person's noun).
_CUE_WORDS = frozenset(
    w for phrase in (*_STRONG_PHRASES, "name", *_GREETINGS, *_KIN_WORDS, *_CONTACT_VERBS, *_CONTACT_NOUNS, *_SOCIAL_WORDS,
                     "with", *_PERSON_NOUNS) for w in re.findall(r"[^\W\d_]+", phrase)
)  # fmt: skip
_KIN_PARTS = frozenset(w for phrase in _KIN_WORDS for w in re.findall(r"[^\W\d_]+", phrase))
# The word right before a name that a strong, kin, contact or social cue ends with.
_CUE_LAST = frozenset(
    re.findall(r"[^\W\d_]+", phrase)[-1]
    for phrase in (*_STRONG_PHRASES, "name", *_GREETINGS, *_KIN_WORDS, *_CONTACT_VERBS, "with")
)


@dataclass(frozen=True)
class LowerLexicon:
    """Lower-cased name lists for chat text: which words are names, which of them are everyday words too."""

    first: frozenset[str]
    last: frozenset[str]
    ambiguous: frozenset[str]  # names that are also everyday words, places, languages
    never: frozenset[str]  # words that are never a name: function words, dates, holidays, greeted groups
    cased_first: frozenset[str]  # the capitalised first names pii._find_people reads (as written)
    cased: frozenset[str]  # word parts of the capitalised first names and titles pii._find_people reads
    cased_last: frozenset[str]  # word parts of the capitalised surnames (after an initial: "J. Smith")
    plain: frozenset[str]  # lower-cased first names that are no everyday word
    plain_words: frozenset[str]  # those of one word
    plain_s: frozenset[str]  # their "s" forms that are no listed name ("susans birthday", not "class")
    joined: dict[str, tuple[tuple[str, ...], ...]]  # names of several word parts ("anne-marie"), by their longest part
    joined_keys: frozenset[str]
    everyday: frozenset[str]  # word parts of lower-cased first names that are everyday words too (and "s" forms)
    places: frozenset[str]  # lower-cased words of places, cities, regions
    kinds: dict[str, int]  # word -> the _IN_* bits of the word lists it is in (one look-up per word)


def lower_lexicon(
    first: frozenset[str], last: frozenset[str], common: frozenset[str], stop_words: frozenset[str], places: dict, titles: frozenset[str]
) -> LowerLexicon:
    """The chat-text name lists: the capitalised ones (pii._lexicon) and every faker locale's, lower-cased."""
    place_words = {w.lower() for phrases in places.values() for phrase in phrases for w in phrase}
    all_first, all_last = faker_names()
    # "someone else's", "theres", "on jan 28", "hi team": a function word, date or greeted group is no name
    never = frozenset(_NOT_PEOPLE | (function_words(stop_words) - _NICKNAMES) | date_words() | set(GREETED) | _KIN_PARTS)
    # a name that is no single token in lower case ("i̇de": a combining dot) can never match one
    low_first = frozenset(w for w in {w.lower() for w in first} | all_first | _NICKNAMES if _TOKEN.fullmatch(w)) - never
    low_last = frozenset(w for w in {w.lower() for w in last} | all_last if _TOKEN.fullmatch(w)) - never
    place_names = frozenset(_PLACE_NAMES | _REGIONS | place_words | geo_places())
    words = common | _WORD_NAMES | place_names | read_everyday()
    ambiguous = frozenset((low_first | low_last) & words)
    cased = frozenset(p for w in (*first, *(t.capitalize() for t in titles)) for p in _WORD.findall(w))

    def parts(names) -> frozenset[str]:
        return frozenset(p for w in names for form in (w, w + "s") for p in _WORD.findall(form))

    everyday = ambiguous & low_first
    cased_last = frozenset(p for w in last for p in _WORD.findall(w))
    plain = low_first - everyday
    plain_words = frozenset(w for w in plain if _WORD.fullmatch(w))
    plain_s = frozenset(w + "s" for w in plain_words) - plain_words
    joined_lists: dict[str, list[tuple[str, ...]]] = {}
    for w in plain:
        if not _WORD.fullmatch(w):
            for form in (w, w + "s"):
                word_parts = tuple(_WORD.findall(form))
                joined_lists.setdefault(max(word_parts, key=len), []).append(word_parts)
    joined = {k: tuple(v) for k, v in joined_lists.items()}
    everyday_parts, joined_keys = parts(everyday), frozenset(joined)
    kinds = _word_kinds(plain_words, plain_s, joined_keys, everyday_parts, low_last)
    return LowerLexicon(
        low_first, low_last, ambiguous, never, first, cased, cased_last, plain, plain_words, plain_s, joined, joined_keys,
        everyday_parts, place_names, kinds,
    )  # fmt: skip


# Bits of LowerLexicon.kinds: which word lists a lower-cased word is in.
_IN_PLAIN, _IN_PLAIN_S, _IN_JOINED, _IN_EVERYDAY, _IN_CUE, _IN_KIN, _IN_LAST = (1 << k for k in range(7))


def _word_kinds(plain_words, plain_s, joined_keys, everyday, last) -> dict[str, int]:
    """Word -> the _IN_* bits of the screen's word lists it is in."""
    kinds: dict[str, int] = {}
    for bit, words in ((_IN_PLAIN, plain_words), (_IN_PLAIN_S, plain_s), (_IN_JOINED, joined_keys), (_IN_EVERYDAY, everyday),
                       (_IN_CUE, _CUE_WORDS), (_IN_KIN, _KIN_PARTS), (_IN_LAST, last)):  # fmt: skip
        for w in words:
            kinds[w] = kinds.get(w, 0) | bit
    return kinds


def could_hold_name(text: str, lex: LowerLexicon) -> bool:
    """False only when no rule of pii._find_people or find_lower_people can fire on the text.

    Capitalised rules need an upper-case letter and a listed first name or title as written, or an initial and a
    listed surname; lower-case rules a first name that is no everyday word, an everyday-word first name and a cue
    word, or a kin word or title right before a surname. Answers are kept per text (the prescreen asks about every
    text, the name recognizer again about those it analyses) until many texts have been asked about.
    """
    known = _ANSWERS.get(text)
    if known is None:
        if len(_ANSWERS) >= _ANSWERS_MAX:
            _ANSWERS.clear()
        known = _ANSWERS[text] = _could_hold_name(text, lex)
    return known


def forget_answers() -> None:
    """Drop the kept answers of could_hold_name (the end of a scan)."""
    _ANSWERS.clear()
    _LAST_WORDS[:] = [None, [], None, None]


_ANSWERS: dict[str, bool] = {}
_ANSWERS_MAX = 1 << 18
# ASCII characters that are no letter, as spaces: splitting an ASCII text on them gives _WORD's words, faster.
_NON_LETTERS = bytes(c if c < 128 and chr(c).isalpha() else 32 for c in range(256))


def letter_words(text: str) -> list[str]:
    """The text's runs of letters, lower-cased (as _WORD.findall(text.lower())); the last text's are kept."""
    if text is not _LAST_WORDS[0]:
        _read_words(text)
    return _LAST_WORDS[1]


def letter_word_set(text: str) -> set[str]:
    """The set of letter_words(text), kept with them."""
    if text is not _LAST_WORDS[0]:
        _read_words(text)
    if _LAST_WORDS[2] is None:
        _LAST_WORDS[2] = set(_LAST_WORDS[1])
    return _LAST_WORDS[2]


def cased_letter_words(text: str) -> list[str]:
    """The text's runs of letters as written (as _WORD.findall(text)), kept with letter_words."""
    if text is not _LAST_WORDS[0]:
        _read_words(text)
    if _LAST_WORDS[3] is None:
        _LAST_WORDS[3] = text.encode().translate(_NON_LETTERS).decode().split() if text.isascii() else _WORD.findall(text)
    return _LAST_WORDS[3]


def _read_words(text: str) -> None:
    """Split the text into lower-cased letter runs once for every check that reads them (one text at a time)."""
    lowered = text.lower()
    words = lowered.encode().translate(_NON_LETTERS).decode().split() if text.isascii() else _WORD.findall(lowered)
    _LAST_WORDS[:] = [text, words, None, None]


_LAST_WORDS: list = [None, [], None, None]  # text, its lower-cased words, their set, its words as written


def _could_hold_name(text: str, lex: LowerLexicon) -> bool:
    lows = letter_words(text)
    # capitalised rules: an upper-case letter and a listed first name or title as written, or an initial and a
    # listed surname
    if not text.islower():
        words = cased_letter_words(text)
        if not lex.cased.isdisjoint(words):
            return True
        initial = (_ASCII_INITIAL if text.isascii() else _INITIAL).search(text) is not None  # "J. Smith": "J" upper case
        if initial and not lex.cased_last.isdisjoint(words):
            return True
    kinds = functools.reduce(operator.or_, map(lex.kinds.get, lows, itertools.repeat(0)), 0)
    # a plain listed name as find_lower_people reads it (a whole token, possessive cut off, or its "s" form): one
    # of one word is one of the text's words; one of several ("anne-marie") needs all its parts, then the tokens decide
    if kinds & _IN_PLAIN:
        return True
    if kinds & _IN_PLAIN_S:  # "leons soccer practice": the next word is a person's thing, maybe mistyped
        s_forms = lex.plain_s.intersection(lows)
        for w, n in zip(lows, lows[1:]):
            if w in s_forms and (n in _PERSON_ONLY_NOUNS or _as_cue_word(n, _PERSONAL_THINGS) in _PERSONAL_THINGS):
                return True
    if kinds & _IN_JOINED:
        low = letter_word_set(text)
        if any(all(p in low for p in word_parts) for k in lex.joined_keys.intersection(low) for word_parts in lex.joined[k]):
            for m in _TOKEN.finditer(text):
                name = _POSSESSIVE_END.sub("", m.group()).lower()
                if name in lex.plain or (name[-1:] == "s" and name[:-1] in lex.plain):
                    return True
    if kinds & _IN_EVERYDAY and kinds & _IN_CUE:
        # an everyday-word name right after a cue's last word, before "s" and a person's noun ("will's birthday"),
        # or in its "s" form before a noun only people have ("wills birthday")
        n = len(lows)
        for w in lex.everyday.intersection(lows):
            i = lows.index(w)
            while True:
                if i and lows[i - 1] in _CUE_LAST:
                    return True
                after = lows[i + 1] if i + 1 < n else ""
                if (after in _PERSON_ONLY_NOUNS and w[-1:] == "s") or (after == "s" and i + 2 < n and lows[i + 2] in _PERSON_NOUNS):
                    return True
                try:
                    i = lows.index(w, i + 1)
                except ValueError:
                    break
    if not (kinds & _IN_KIN and kinds & _IN_LAST):
        return False
    return any(a in _KIN_PARTS and b in lex.last for a, b in zip(lows, lows[1:]))


def _follower_ok(text: str, end: int) -> bool:
    """The name ends a clause or is followed by a word that cannot continue a verb or noun phrase."""
    rest = text[end:].lstrip(" \t")
    if not rest or rest[0] in ",.!?;:)\n\"'’":
        return True
    m = _FOLLOWER.match(rest)
    if m is None:
        return False  # a digit: "june 5th", "may 3"
    return m.group().lower() in _FOLLOWERS


def _in_address(text: str, start: int, end: int) -> bool:
    """The word is glued to an address, handle or path ("sofia.king@", "@sofia", "sofia_88", "bob99")."""
    before, after = text[start - 1 : start], text[end : end + 2]
    glued = before.isdigit() or after[:1].isdigit()  # "bob99", "2bob"
    return glued or before in ("@", ".", "_", "/", "#") or after[:1] in ("@", "_", "/") or (after[:1] == "." and after[1:2].isalnum())


# Cues that point at a person only for a listed name that is no everyday word (everyday-word names need the strong
# cues above): questions about someone ("did X reply", "how old is X", "where is X"), a plain "for X" / "from X" /
# "visit X", and after the name: a verb ("X made", "X called"), "X and i", "X to/from my contacts".
_QUESTION = re.compile(
    r"(?:^|[.!?,;:\n])\s*(?:(?:so|and|but|hey|hi|ok|okay|please|pls|also|then)\s+)?"
    r"(?:(?:how\s+old|how\s+tall|how|where|when|what|why|who|whom)\s+)?"
    r"(?:did|does|do|is|was|has|had|will|would|can|could|should|are|were|didnt|doesnt|isnt|hasnt|wasnt)\s*$"
)
_PLAIN_BEFORE = re.compile(r"\b(?:for|from|visit|visiting|visited|thanks|thank\s+you|love|miss|congrats|congratulations)\s*$")
_SUBJECT_VERBS = frozenset(
    """said says say called calls call texted texts emailed emails messaged wrote writes sent sends made makes asked
    asks told tells wants want needs need wanted needed is was has had will would can could should just left leaves
    came comes got gets bought buys gave gives paid pays owes likes loves hates lives lived works worked knows
    thinks replied replies mentioned posted shared invited booked took went goes did does didnt doesnt didn't
    doesn't isn't wasn't won't wont can't cant hasn't hasnt hadn't has isnt wasnt is's recommended suggested
    picked dropped arrives arrived arriving landed lands moved moves turns turned starts started finished
    forgot remembered mentioned signed sold sent created recorded shot sang wrote drew cooked baked""".split()
)
_ROUTE = re.compile(r"\s+to\s")  # "a flight from boston to miami": places
_TRAVEL = re.compile(r"\b(?:fly|flying|flight|flights|travel|travelling|traveling|trip|drive|driving|train|bus|ticket|tickets|route|directions|distance|miles|fare|commute)\b")
_AND_ME = re.compile(r"\s*(?:and|&|n)\s+(?:i|me|myself)\b")
_CONTACTS_AFTER = re.compile(r"\s+(?:to|from|in|into|on)\s+(?:my\s+|the\s+)?(?:contacts?|contact\s+list|address\s+book|phone\s*book)\b")
# Things a person has, for a possessive of a listed plain name ("leons soccer practice", "maya's playlist").
_PERSONAL_THINGS = _PERSON_NOUNS | frozenset(
    """soccer football basketball baseball hockey tennis swim swimming dance dancing ballet karate piano guitar violin
    drum drums band homework playlist music song songs photo photos picture pictures pics video videos book books
    toy toys clothes shoes bag keys wallet laptop computer ipad tablet appointment surgery checkup therapy treatment
    medicine medication meds pills present presents gifts dinner lunch breakfast pickup dropoff ride rides visit
    flight plane bus lessons tutor tutoring camp daycare club concert show match race test exam grades report
    application order package delivery number address mail messages texts voicemail surprise bbq barbecue cookout
    celebration retirement farewell reunion accomplishments achievements life career biography quotes""".split()
)
# Words after "X's" that make X a business, not a person ("is denny's open", "macy's hours", "trader joe's near me").
_BUSINESS_AFTER = frozenset(
    """open opens opening close closes closing closed hours restaurant restaurants store stores shop shops menu
    near nearby location locations deliver delivers delivery accept accepts take takes sell sells serve serves
    have has carry carries offer offers website app coupon coupons sale reservations reservation drive thru
    grill bar cafe diner pub kitchen pizza burger burgers chicken review reviews rating ratings is was are""".split()
)
_PLACE_PREPOSITIONS = frozenset("at from to near in into inside outside".split())
_DETERMINERS = frozenset("a an the my your his her our their its this these those every each any some no".split())  # not "that": "i heard that susan..."
_TITLE_WORDS = frozenset("mr mrs ms miss dr doctor professor prof sir mister".split())
# Words of every cue, for reading a mistyped cue word as the cue ("cll bob", "meeting wih bob", "remnid bob").
_CUE_VOCAB = frozenset(
    w for phrase in (*_STRONG_PHRASES, *_KIN_WORDS, *_CONTACT_VERBS, *_CONTACT_NOUNS, *_SOCIAL_WORDS, *_VERB_OPENERS)
    for w in re.findall(r"[^\W\d_]+", phrase)
) | frozenset(
    """with name send sent give gave talk talked speak spoke write wrote reply replied respond forward introduce
    transfer pay paid lend lent owe message show read deliver return mail from messages texts emails letter
    gift invite invitation request photos pictures contact present booking reminder appointment tickets surprise
    party cake flowers note birthday something how old where when what did does has is was will""".split()
)  # fmt: skip
_KNOWN = _CUE_VOCAB | _PERSONAL_THINGS | _FOLLOWERS | _SUBJECT_VERBS | _DETERMINERS


@functools.lru_cache(maxsize=65536)
def _as_cue_word(word: str, vocab: frozenset[str] = _CUE_VOCAB) -> str:
    """The cue word a mistyped word stands for (one letter swapped, dropped, doubled or changed; first letter kept)."""
    if word in _KNOWN or len(word) < 3:
        return word
    letters = "abcdefghijklmnopqrstuvwxyz"
    forms = {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    forms |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1)}
    forms |= {word[:i] + c + word[i + 1 :] for i in range(1, len(word)) for c in letters}
    forms |= {word[:i] + c + word[i:] for i in range(1, len(word) + 1) for c in letters}
    hits = sorted(w for w in forms if len(w) >= 4 and w in vocab)
    return hits[0] if len(hits) == 1 else word


def _untypo(text: str, vocab: frozenset[str] = _CUE_VOCAB) -> str:
    return _LOWER_WORD.sub(lambda m: _as_cue_word(m.group(), vocab), text)


_LOWER_WORD = re.compile(r"[a-z]+")


def _business_after(after: str) -> bool:
    """The text after "X's" reads as a business: nothing, a place word or a verb of trade ("is denny's open")."""
    m = _FOLLOWER.match(after.lstrip())
    return m is None or m.group().lower() in _BUSINESS_AFTER


# --- businesses, venues, places and titles that hold a name ------------------------------------------------------
#
# "does bill's house of chop suey take reservations", "for smith's at 6:15", "is kaya busy", "heinz field", "in beverly
# hills", "san antonio", "harry potter trivia", "from marc 2nd", "what timezone reno is in": a name word there is part
# of a business, venue, place or title. A strong, kin or contact cue ("call mark", "my name is sally") still makes it
# a person.

# Nouns right after a name (or a first and last name) that make the words a venue, business, place or work title.
_VENUE_NOUNS = frozenset(
    """hills hill heights field fields forest forests park parks stadium arena center centre mall plaza square street
    avenue boulevard road bridge tunnel airport station terminal harbor harbour port bay beach lake lakes river
    island islands valley canyon mountain mountains national county city town village falls springs bank banks
    hotel hotels inn motel resort casino steakhouse steakhouses grill grille cafe café diner bar pub tavern bistro
    brasserie kitchen restaurant restaurants pizzeria pizza pizzas bakery deli market supermarket store stores shop
    shops outlet pharmacy brewery winery theater theatre cinema museum gallery zoo aquarium gym spa salon clinic
    hospital university college academy institute airlines airline airways foods cinemas books book trivia movie
    movies film films series novel novels saga franchise trilogy""".split()
)  # fmt: skip
# Words before a name that make it part of a place name ("san antonio", "st louis", "fort worth", "lake placid").
_PLACE_PREFIXES = frozenset("san santa santo sao st saint ste fort ft port mount mt lake los las palo cape".split())
# Things places have, anywhere in a text: a weakly cued name there is a place ("visa for crete", "what timezone reno
# is in", "traffic to fred meyer"); words of travel right before a name that is a place too ("visiting asia soon").
_PLACE_CONTEXT = re.compile(
    r"\b(?:time\s*zones?|weather|forecast|temperature|visas?|population|capital|currency|traffic|directions|distance|"
    r"located|miles|kilometers|km|airports?|airlines?)\b"
)
_TRAVEL_BEFORE = re.compile(
    r"\b(?:visit(?:s|ing|ed)?|travel(?:s|l?ing|l?ed)?(?:\s+to)?|trip\s+to|vacation(?:ing)?\s+in|"
    r"(?:go|going|went|head|headed|heading|move|moving|moved|fly|flying|flew|drive|driving|drove)\s+(?:to|into))\s*$"
)
# Words that make a text about a venue or business: "X and Y" there is its name ("for smith and wollensky").
_VENUE_CONTEXT = re.compile(r"\b(?:reservations?|reserve[ds]?|reserving|table\s+for|restaurants?|menu|busy|reviews?|ratings?|open|opens|hours)\b")
# What a business is or does, right after its name: "is kaya busy", "does cielo take reservations", "does ruth chris
# in charlotte allow you to make a reservation", "does cielo have good reviews".
_BUSINESS_PREDICATE = re.compile(
    r"(?:['’]s)?\s+(?:[a-z']+\s+){0,3}?(?:(?:busy|crowded|packed|open|opens|closed|closes)\b|"
    r"(?:take|takes|accept|accepts|allow|allows|do|does|offer|offers)\s+(?:[a-z']+\s+){0,4}?"
    r"(?:reservations?|walk-?ins|delivery|takeout|take-out)\b|"
    r"(?:have|has|get|gets)\s+(?:[a-z']+\s+){0,2}?(?:reviews|ratings|stars)\b)"
)
_ORDINAL_AFTER = re.compile(r"\s+\d{1,2}(?:st|nd|rd|th)\b")  # "from marc 2nd to 4th": a mistyped month
_AND_OTHER = re.compile(r"\s*(?:and|&|n)\s+([^\W\d_]+)")
_AND_PERSONS = frozenset("i me myself us we her him his them their my your you our".split())


def _personal_thing_after(rest: str) -> bool:
    """One of the first two words of rest (the text after "X's") is a thing a person has ("real name", "new car")."""
    return any(_untypo(w.lower(), _PERSONAL_THINGS) in _PERSONAL_THINGS for w in _WORD.findall(rest[:40])[:2])


def _word_after(text: str, pos: int) -> str:
    """The lower-cased word after position pos, past a possessive 's ("" at the end or before a digit)."""
    rest = text[pos:]
    if rest[:2] in ("'s", "’s"):
        rest = rest[2:]
    m = _FOLLOWER.match(rest.lstrip())
    return m.group().lower() if m else ""


def _part_of_venue(text: str, tokens: list, i: int, name_end: int, cue: str | None, lex: LowerLexicon) -> bool:
    """The name word at tokens[i] (ending at name_end, its surname included) names a business, venue, place or work."""
    if _word_after(text, tokens[i][1]) in _VENUE_NOUNS or _word_after(text, name_end) in _VENUE_NOUNS or _ORDINAL_AFTER.match(text, name_end):
        return True  # "heinz field", "beverly hills", "peter luger steakhouse", "harry potter trivia", "marc 2nd"
    if i and tokens[i - 1][2].lower() in _PLACE_PREFIXES and text[tokens[i - 1][1] : tokens[i][0]] == " ":
        return True  # "san antonio"
    if cue in ("strong", "contact"):
        return False
    if i and tokens[i - 1][2].lower() == "at" and text[tokens[i - 1][1] : tokens[i][0]] == " ":
        return True  # "a table for chris at stella maris"
    if _BUSINESS_PREDICATE.match(text, name_end):
        return True  # "is kaya busy", "does cielo take reservations"
    low = text.lower()
    if _PLACE_CONTEXT.search(low):
        return True  # "visa for crete", "what timezone reno is in"
    if tokens[i][2].lower() in lex.places and _TRAVEL_BEFORE.search(low, 0, tokens[i][0]):
        return True  # "visiting asia soon", "going to florence" (not "visiting kenneth")
    other = _AND_OTHER.match(text, name_end)
    if other and _VENUE_CONTEXT.search(low):
        word = other.group(1).lower()
        return word not in lex.first and word not in _AND_PERSONS  # "for smith and wollensky", not "joe and i"
    return False


def find_lower_people(text: str, tokens: list[tuple[int, int, str]], lex: LowerLexicon, taken: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """(start, end, score) of lower-case names in context; tokens as pii._tokens gives them (possessive cut off)."""
    out: list[tuple[int, int, float]] = []
    busy = [(s, e) for s, e, _ in taken]
    i, after_determiner = 0, -1
    while i < len(tokens):
        start, end, word = tokens[i]
        name, poss_end = word.lower(), end
        if name not in lex.first and name not in lex.last and not (name[-1:] == "s" and name[:-1] in lex.first):
            i += 1
            continue  # no listed name in any reading
        titled = word[:1].isupper() and word[1:].islower()
        formal = titled and i + 1 < len(tokens) and tokens[i + 1][2][:1].isupper() and text[end : tokens[i + 1][0]] == " "
        if name in lex.never or formal or not (word.islower() or (titled and (name in lex.ambiguous or word not in lex.cased_first))):
            i += 1
            continue  # capitalised runs ("Mark Johnson", "Bradford City") and listed plain names are pii._find_people's
        listed = name in lex.first or name in lex.last or name[:-1] in lex.first
        if listed and i and text[tokens[i - 1][1] : start] == " " and (tokens[i - 1][2].lower() in _DETERMINERS or i - 1 == after_determiner):
            after_determiner = i
            i += 1
            continue  # "my doctor's", "the ben franklin bridge": a name takes no determiner
        nxt_word = tokens[i + 1][2].lower() if i + 1 < len(tokens) else ""
        s_possessive = False
        if name.endswith("s") and name[:-1] in lex.first and text[end : end + 1] == " ":
            plain = name[:-1] not in lex.ambiguous
            if (name not in lex.first and nxt_word in _PERSON_ONLY_NOUNS) or plain and _untypo(nxt_word, _PERSONAL_THINGS) in _PERSONAL_THINGS:
                name, end, s_possessive = name[:-1], end - 1, True  # "susans birthday", "leons soccer practice"
        possessive = text[end:poss_end + 2] in ("'s", "’s") or end < poss_end
        if name not in lex.first and not (name in lex.last and _KIN.search(text[max(0, start - 20) : start].lower())):
            i += 1
            continue
        if _in_address(text, start, poss_end) or any(s < poss_end and start < e for s, e in busy):
            i += 1
            continue
        ambiguous = name in lex.ambiguous or name not in lex.first
        prefix = text[max(0, start - 60) : start].lower()
        if not ambiguous:
            prefix = _untypo(prefix)  # a mistyped cue still points at a listed plain name
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        after = text[poss_end:]
        # a listed surname right after: "daniel bell", "mark johnson"
        pair_end = None
        if nxt is not None and not possessive and text[end : nxt[0]] == " " and (nxt[2].islower() or not word.islower()):
            surname = nxt[2].lower()
            plausible = surname not in _PERSON_NOUNS and surname not in _SUBJECT_VERBS  # not "michael will reserve"
            if surname in lex.last and plausible and (surname not in lex.ambiguous or not ambiguous):
                pair_end = nxt[1]
        # the verb of "X said" / "X Y said" follows the whole name: for a pair, the word after its surname
        verb_at = i + 2 if pair_end is not None else i + 1
        verb_word = tokens[verb_at][2].lower() if verb_at < len(tokens) else ""
        verb_spaced = bool(verb_word) and text[tokens[verb_at - 1][1] : tokens[verb_at][0]] == " "
        score = 0.0
        bare_possessive = False
        if possessive:
            thing = after.lstrip("'’s").lstrip()
            noun = _WORD.match(thing)
            noun_word = noun.group().lower() if noun else ""
            if i and tokens[i - 1][2].lower() in _PLACE_PREPOSITIONS and noun_word not in _PERSON_NOUNS:
                i += 1
                continue  # "a table at sammy's crab shack", "a charge from dave's video": a business
            house_of = noun_word == "house" and _word_after(thing, noun.end()) == "of"
            if noun_word in _PERSON_NOUNS and not house_of:  # not "bill's house of chop suey"
                score = 0.6 if ambiguous else 0.75
            elif not ambiguous and (s_possessive or _personal_thing_after(thing)) and not house_of:
                score = 0.6  # "maya's playlist", "leons soccer practice", "harry's real name"
            else:
                bare_possessive = True  # "for smith's at 6:15", "is denny's open", "trader joe's": a business
        if not possessive and _SERVICE_WITH.search(prefix):
            i += 1
            continue  # "sign in with okta", "pay with klarna": a service
        cue = None
        kin = _KIN.search(prefix)
        if kin and ambiguous and word.islower() and _WORD.findall(kin.group())[-1] in _TITLE_WORDS:
            kin = None  # "dr pepper": a title before a lower-case everyday word names no one
        if _STRONG.search(prefix) or kin:
            cue = "strong"
        elif (_CONTACT_VERB if ambiguous else _CONTACT).search(prefix) or _WITH_SOCIAL.search(prefix):
            cue = "contact"
        elif _WITH.search(prefix) or _TO.search(prefix) or _FROM.search(prefix) or _FOR.search(prefix) or _SELF.search(prefix):
            cue = "weak"
        elif not ambiguous and not (possessive and _business_after(after.lstrip("'’s"))) and (
            _QUESTION.search(prefix) or (_PLAIN_BEFORE.search(prefix) and not (_ROUTE.match(after) and _TRAVEL.search(prefix)))
            or _AND_ME.match(after) or _CONTACTS_AFTER.match(after)
            or (not possessive and _untypo(verb_word, _SUBJECT_VERBS) in _SUBJECT_VERBS and verb_spaced)
        ):  # fmt: skip
            cue = "weak"
        if pair_end is not None and text[pair_end : pair_end + 2] in ("'s", "’s"):
            bare_possessive = not _personal_thing_after(text[pair_end + 2 :])  # "jimmy john's reservations"; not "john smith's car"
        if bare_possessive and cue not in ("strong", "contact"):
            i += 1
            continue
        if not (possessive and not bare_possessive) and _part_of_venue(text, tokens, i, pair_end or poss_end, cue, lex):
            i += 1
            continue
        follows = possessive or pair_end is not None or _follower_ok(text, end)
        if cue == "strong":
            score = max(score, 0.55 if ambiguous and follows else 0.8 if not ambiguous else 0.0)
        elif cue == "contact":
            score = max(score, 0.55 if ambiguous and follows else 0.75 if not ambiguous else 0.0)
        elif cue == "weak" and not ambiguous:
            score = max(score, 0.65 if follows else 0.55)
        if pair_end is not None and name in lex.first:
            pair = 0.6 if ambiguous or nxt[2].lower() in lex.ambiguous else 0.7
            if cue in ("strong", "contact") or (cue == "weak" and not ambiguous):
                pair = min(0.9, pair + 0.15)
            # an uncued lower-case pair in a text that capitalises inside sentences ("la app se cierra sola" beside
            # "Hi Northwind team"): this writer would have capitalised a name
            uncued_lower = cue is None and not possessive and word.islower() and nxt[2].islower()
            capitalising = uncued_lower and any(m.start() < start or m.start() >= pair_end for m in _MID_SENTENCE_CAPITAL.finditer(text))
            if not capitalising and (not ambiguous or cue in ("strong", "contact")):
                out.append((start, pair_end, max(pair, score)))
                i += 2
                continue
        if score == 0.0 and not ambiguous and name in lex.first:
            score = 0.3  # a listed name with nothing around it that says person
        if score > 0.0:
            out.append((start, end, score))
        i += 1
    return out


# --- email addresses as people type or say them -------------------------------------------------------
#
# "sam@gmail dot com", "sam at gmail dot com", "sam at gmail.com", "sam (at) gmail (dot) com", "sam @ gmail . com",
# "john dot smith at outlook dot com", "sam at gmail". An address written the standard way is left to Presidio's
# EmailRecognizer. Every match holds "@", "at" between white space, or "at" in brackets (the prescreen's regex).
_PART = r"[a-z0-9](?:[a-z0-9_+-]{0,40}[a-z0-9])?"
_DOT = r"(?:\.|\s+\.\s+|\s+dot\s+|\s*[\[(]\s*dot\s*[\])]\s*)"  # never a sentence's ". "
_AT = r"(?P<at>\s*@\s*|\s+at\s+|\s*[\[(]\s*at\s*[\])]\s*)"
_EMAIL = re.compile(
    rf"(?<![\w.+'’-])(?P<local>{_PART}(?:{_DOT}{_PART}){{0,3}}){_AT}(?P<domain>{_PART}(?:{_DOT}{_PART}){{0,3}})(?![\w@])",
    re.IGNORECASE,
)
_WEBMAIL_NAMES = (
    "gmail googlemail hotmail yahoo ymail outlook icloud aol protonmail proton gmx yandex zoho fastmail hushmail tutanota"
)
# Every match holds "@", or "at" between spaces or in brackets followed by a webmail name or a label and a dot.
EMAIL_SCREEN = re.compile(
    rf"@|(?:\sat\s+|[\[(]\s*at\s*[\])]\s*)(?:(?:{_WEBMAIL_NAMES.replace(' ', '|')})(?![\w@])|{_PART}{_DOT})", re.IGNORECASE
)


def may_hold_email(low: str) -> bool:
    """False only when the lower-cased text cannot match EMAIL_SCREEN: no "@", no "at" between white space or brackets."""
    if "@" in low:
        return True
    i = low.find("at")
    while i != -1:
        before, after = low[i - 1 : i] if i else "", low[i + 2 : i + 3]
        if (before.isspace() or before in ("[", "(")) and before and (after.isspace() or (after and after in "])")):
            return True
        i = low.find("at", i + 1)
    return False


_DOT_SPLIT = re.compile(r"\s+\.\s+|\.|\s+dot\s+|\s*[\[(]\s*dot\s*[\])]\s*", re.IGNORECASE)
_WEBMAIL = frozenset(_WEBMAIL_NAMES.split())
_EMAIL_CUE = re.compile(r"\b(?:e-?mail|mail|address|contact|reach|send|write|inbox)\b", re.IGNORECASE)
_PRONOUNS = frozenset("i me you us him her them it we they he she".split())


@functools.cache
def _suffixes() -> frozenset[str]:
    """Top-level domains from tldextract's bundled public suffix snapshot, never the network."""
    import tldextract

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    return frozenset(s.rsplit(".", 1)[-1] for s in extractor.tlds if s.isascii())


def _email_candidates(text: str):
    """Matches of _EMAIL; after each, the search goes on from its domain, so "me at sam at gmail dot com" still
    yields "sam at gmail dot com" once "me at sam" is turned down (a kept match's domain is no address's start)."""
    pos = 0
    while (m := _EMAIL.search(text, pos)) is not None:
        yield m
        pos = m.start("domain")


def find_informal_emails(text: str, common: frozenset[str], first_names: frozenset[str]) -> list[tuple[int, int, float]]:
    """(start, end, score) of email addresses written with "at"/"dot" spelled out, brackets or spaces."""
    if EMAIL_SCREEN.search(text) is None:
        return []
    out = []
    cue = None
    for m in _email_candidates(text):
        symbol_at = m.group("at").strip() == "@"
        domain = m.group("domain")
        labels = [x.lower() for x in _DOT_SPLIT.split(domain)]
        informal_dots = any(d != "." for d in _DOT_SPLIT.findall(domain))
        local = m.group("local").lower()
        if m.group("at") == "@" and not informal_dots and not re.search(r"\s|\bdot\b|[\[(]", local):
            continue  # a standard address: Presidio's EmailRecognizer's
        webmail = labels[0] in _WEBMAIL
        end = m.end()
        if len(labels) == 1 or labels[-1] not in _suffixes():
            if not webmail:
                continue
            labels, informal_dots, end = labels[:1], False, m.start("domain") + len(labels[0])  # "sam at gmail"
        words = _WORD.findall(local)
        plain = len(words) == 1 and words[0] == local  # one word, no digit, dot, "_" or "+"
        if plain and local in _PRONOUNS:
            continue  # "email me at gmail dot com" names no address
        if cue is None:
            cue = _EMAIL_CUE.search(text) is not None
        address_like = not plain or local in first_names or cue or local not in common
        if symbol_at:
            score = 0.85
        elif len(labels) == 1:
            score = 0.6 if webmail and (address_like and (not plain or local in first_names or cue)) else 0.0
        elif informal_dots:
            score = 0.8 if address_like else 0.0
        else:  # "sam at gmail.com", "look at google.com"
            score = 0.75 if webmail or not plain or local in first_names or cue else 0.0
        if score and not (out and m.start("local") < out[-1][1]):
            out.append((m.start("local"), end, score))
    return out


# --- phone numbers in words ---------------------------------------------------------------------------
#
# "five five five one two three four five six seven", "oh seven seven double oh nine...", "555 one two three 4567":
# runs of digit words and digit groups with nothing but spaces and punctuation between them, read into digits.
# A run needs at least one digit word (digit groups alone are Presidio's PhoneRecognizer's) and a non-zero digit
# word or a digit (the prescreen's regex), and 7 to 15 digits.
_UNITS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}
_TEENS = {w: str(10 + i) for i, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: str(20 + 10 * i) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_ZERO_LETTERS = frozenset({"oh", "o"})
_NUMBER_TOKEN = re.compile(r"[a-z]+|\d+", re.IGNORECASE)
_RUN_GAP = re.compile(r"[\s,.\-()/+]*")
_ANY_NUMBER_WORD = "|".join(sorted({*_UNITS, *_TEENS, *_TENS, *_ZERO_LETTERS, "double", "triple", "hundred"}))
# Every run holds a digit, or (7 digits at most 3 a word) three number words with only gaps between them.
NUMBER_WORDS = frozenset({*_UNITS, *_TEENS, *_TENS, *_ZERO_LETTERS, "double", "triple", "hundred"})
_ANY_DIGIT = re.compile(r"\d")


def may_hold_spoken_phone(text: str) -> bool:
    """False only when the text cannot match PHONE_WORD_SCREEN: no digit, and (an ASCII text) no three number words in a
    row among its letter runs (only gap characters lie between the screen's words), or no number word at all."""
    if NUMBER_WORDS.isdisjoint(letter_words(text)):
        return _ANY_DIGIT.search(text) is not None
    if not text.isascii():  # Unicode case folding ("ſix" matches "six"): the number word check only
        return True
    return b"\x01\x01\x01" in bytes(w in NUMBER_WORDS for w in letter_words(text)) or _ANY_DIGIT.search(text) is not None


PHONE_WORD_SCREEN = re.compile(rf"\d|\b(?:{_ANY_NUMBER_WORD})(?:[\s,.\-()/+]+(?:{_ANY_NUMBER_WORD})\b){{2}}", re.IGNORECASE)
_NUMBER_WORDS = re.compile(
    r"\b(?:" + "|".join(sorted({*_UNITS, *_TEENS, *_TENS, *_ZERO_LETTERS, "double", "triple", "hundred"})) + r")\b"
)  # on lower-cased text
_DIGIT = re.compile(r"\d")
_PHONE_CUE = re.compile(r"\b(?:call|phone|number|cell|mobile|text|reach|dial|contact|tel|ring|whatsapp|landline|fax)\b", re.IGNORECASE)


def _read_run(words: list[str]) -> tuple[str, bool]:
    """The digits a run of number tokens spells, and whether it holds a non-zero digit."""
    digits: list[str] = []
    nonzero = False
    repeat = 1
    i = 0
    while i < len(words):
        w = words[i].lower()
        if w in ("double", "triple"):
            repeat = 2 if w == "double" else 3
            i += 1
            continue
        if w.isdigit():
            d = w
        elif w in _UNITS:
            d = _UNITS[w]
        elif w in _ZERO_LETTERS:
            d = "0"
        elif w in _TEENS:
            d = _TEENS[w]
        elif w in _TENS:
            d = _TENS[w]
            if i + 1 < len(words) and words[i + 1].lower() in _UNITS and words[i + 1].lower() != "zero":
                d = d[0] + _UNITS[words[i + 1].lower()]
                i += 1
        elif w == "hundred":
            digits.append("00")
            i += 1
            continue
        else:  # pragma: no cover - runs hold number tokens only
            d = ""
        nonzero = nonzero or any(c != "0" for c in d)
        digits.append(d * repeat)
        repeat = 1
        i += 1
    return "".join(digits), nonzero


# A run of 7 or more digits holds a number word (one gives at most 3 digits) and so two number tokens joined by gap
# characters, one of them a number word.
_NUMBER_WORD_TOKEN = rf"(?<![a-z])(?:{_ANY_NUMBER_WORD})(?![a-z])"
_JOINED_NUMBER_WORD = re.compile(
    rf"{_NUMBER_WORD_TOKEN}[\s,.\-()/+]*(?:{_NUMBER_WORD_TOKEN}|\d)|\d[\s,.\-()/+]*{_NUMBER_WORD_TOKEN}", re.IGNORECASE
)


def may_hold_phone_run(text: str) -> bool:
    """False only when no run of find_spoken_phones can be read: no number word joined to another number token."""
    return not NUMBER_WORDS.isdisjoint(letter_words(text)) and _JOINED_NUMBER_WORD.search(text) is not None


def find_spoken_phones(text: str) -> list[tuple[int, int, float]]:
    """(start, end, score) of phone numbers written wholly or partly in words."""
    return spoken_phone_runs(text) if may_hold_phone_run(text) else []


def spoken_phone_runs(text: str) -> list[tuple[int, int, float]]:
    """find_spoken_phones without its cheap check first."""
    words = _NUMBER_WORDS.findall(text.lower())
    if not words or 3 * len(words) + len(_DIGIT.findall(text)) < 7:
        return []  # a number word gives at most 3 digits ("triple five", "twenty one"), a run needs 7
    out = []
    run: list[re.Match] = []

    def close() -> None:
        words = [m.group() for m in run]
        while words and words[-1].lower() in ("double", "triple", "hundred", "o", "oh"):
            words.pop()
            run.pop()
        while words and (words[0].lower() == "hundred" or words[0].lower() in _ZERO_LETTERS and len(words) > 1 and text[run[0].end() : run[1].start()] != " "):
            words.pop(0)
            run.pop(0)
        if not words or all(w.isdigit() for w in words):
            return
        digits, nonzero = _read_run(words)
        if nonzero and 7 <= len(digits) <= 15:
            cue = _PHONE_CUE.search(text) is not None
            score = 0.6 if len(digits) >= 10 else 0.45
            out.append((run[0].start(), run[-1].end(), min(0.75, score + (0.1 if cue else 0.0))))

    for m in _NUMBER_TOKEN.finditer(text):
        w = m.group().lower()
        is_number = w.isdigit() or w in _UNITS or w in _TEENS or w in _TENS or w in _ZERO_LETTERS or w in ("double", "triple", "hundred")
        joined = bool(run) and _RUN_GAP.fullmatch(text[run[-1].end() : m.start()]) is not None
        if is_number and (joined or not run):
            run.append(m)
            continue
        if run:
            close()
            run = []
        if is_number:
            run.append(m)
    if run:
        close()
    return out


def span_results(recognizer, entity: str, spans: list[tuple[int, int, float]]) -> list:
    """Presidio RecognizerResults of one recognizer for (start, end, score) spans, named by the recognizer's class."""
    from presidio_analyzer import AnalysisExplanation, RecognizerResult

    name = type(recognizer).__name__
    meta_name, meta_id = RecognizerResult.RECOGNIZER_NAME_KEY, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
    return [
        RecognizerResult(entity, s, e, score, analysis_explanation=AnalysisExplanation(name, score),
                         recognition_metadata={meta_name: recognizer.name, meta_id: recognizer.id})
        for s, e, score in spans
    ]  # fmt: skip


def informal_recognizers(words) -> list:
    """Presidio recognizers for spelled-out email addresses and phone numbers in words (Presidio imported lazily).

    Args:
        words: a callable returning (lower-cased everyday words, lower-cased first names), called on first use.
    """
    from presidio_analyzer import LocalRecognizer

    class _Informal(LocalRecognizer):
        ENTITY = ""

        def __init__(self) -> None:
            super().__init__(supported_entities=[self.ENTITY], supported_language="en", name=type(self).__name__)

        def load(self) -> None:
            """Nothing to load."""

        def spans(self, text: str) -> list[tuple[int, int, float]]:
            return []

        def analyze(self, text, entities, nlp_artifacts=None):
            if self.ENTITY not in entities:
                return []
            return span_results(self, self.ENTITY, self.spans(text))

    class InformalEmailRecognizer(_Informal):
        ENTITY = "EMAIL_ADDRESS"

        def spans(self, text: str) -> list[tuple[int, int, float]]:
            if not may_hold_email(text.lower()) or EMAIL_SCREEN.search(text) is None:
                return []
            common, first = words()
            return find_informal_emails(text, common, first)

    class SpokenPhoneRecognizer(_Informal):
        ENTITY = "PHONE_NUMBER"

        def spans(self, text: str) -> list[tuple[int, int, float]]:
            return find_spoken_phones(text)

    return [InformalEmailRecognizer(), SpokenPhoneRecognizer()]
