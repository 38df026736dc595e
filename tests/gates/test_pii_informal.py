"""PII in chat text: lower-case names in context, spelled-out email addresses, phone numbers in words, and what never is one."""

from __future__ import annotations

import itertools
import random

import pytest

from synthkit.config import PiiParams
from synthkit.gates.name_words import date_words, everyday_names, faker_names, function_words, read_everyday
from synthkit.gates.pii import _prescreen, build_analyzer, scan_pii

CHAT = PiiParams(
    entities={
        "PERSON": {"threshold": 0.5, "action": "redact"},
        "EMAIL_ADDRESS": {"threshold": 0.5, "action": "reject"},
        "PHONE_NUMBER": {"threshold": 0.4, "action": "redact"},
    },
    workers=1,
)


@pytest.fixture(scope="module")
def analyzer():
    return build_analyzer()


def _found(analyzer, text: str, entity: str) -> list[str]:
    [findings] = scan_pii([text], CHAT, analyzer)
    return [f.text for f in findings if f.entity == entity]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # contact verbs, social "with", strong cues, kin words
        ("call bob", "bob"),
        ("text sarah that i'm running late", "sarah"),
        ("schedule lunch with liam next week", "liam"),
        ("my name is olivia", "olivia"),
        ("you can call me kenneth", "kenneth"),
        ("my brother kevin needs a ride", "kevin"),
        ("hey olivia, are we still on for tonight", "olivia"),  # vocative
        # possessives, with and without the apostrophe
        ("when is susan's birthday", "susan"),
        ("is it true that susans birthday is on march first", "susan"),
        ("what is maya's phone number", "maya"),
        ("put leons soccer practice on the calendar", "leon"),
        ("play jessica's playlist", "jessica"),
        # first + last name
        ("add a new contact for daniel bell", "daniel bell"),
        # questions about a person
        ("did kenneth reply to my email", "kenneth"),
        ("how old is jennifer", "jennifer"),
        ("where is oliver right now", "oliver"),
        ("has natalie called back", "natalie"),
        # a name opening a clause before a verb, "X and i", after the name
        ("kenneth and i are going to the movies tonight", "kenneth"),
        ("play the playlist sophia made", "sophia"),
        ("jessica called about the refund", "jessica"),
        ("delete conor from my contacts", "conor"),
        # plain "for X" / "from X"
        ("buy a gift for natalie", "natalie"),
        ("read my last message from jessica", "jessica"),
        # a mistyped cue still points at a listed plain name
        ("cll joanna", "joanna"),
        ("set up a meeting wih joanna for friday", "joanna"),
        # names that are everyday words, after a cue that points at a person
        ("call mark at 5", "mark"),
        ("lunch with will on friday", "will"),
        ("Call Mark", "Mark"),
        # names from locales beyond the capitalised-text lists, in any casing
        ("call Kyalo", "Kyalo"),
        ("did kyalo reply to my email", "kyalo"),
        # the verb after a first and last name makes the pair a subject
        ("Hi team, daniel bell wants a refund", "daniel bell"),
    ],
)
def test_names_in_chat_are_found(analyzer, text, name):
    assert _found(analyzer, text, "PERSON") == [name]


@pytest.mark.parametrize(
    "text",
    [
        # dates, months, weekdays and holidays in any casing
        "I don't want my annual plan to renew on Jan 28. How do I switch it off?",
        "Notifications stopped arriving on March 28, they used to work fine.",
        "since march 28 nothing syncs",
        "ship it may 5th",
        "MAY 5TH",
        "due june 1",
        "JUNE 1 is the deadline",
        "april 3rd works",
        "see you on Sunday",
        "closed on sat and sun",
        "christmas eve plans",
        "Easter Sunday opening hours",
        "dear may, thanks",
        # greetings that name no one, and function words typed without an apostrophe
        "Hi team, quick question about the invoice",
        "hello there, my order is late",
        "Hello There",
        "hi theres no way to undo deleting a tag",
        "hi all, whats the status",
        # everyday words that are names
        "mark my calendar for june 5th",
        "may i pay my bill with my card",
        "will it rain tomorrow",
        "bill payment failed again",
        "grant me access to the shared folder",
        "hey will you set an alarm for 7",
        "hi may i ask something",
        "ask alexa to play music",
        "calorie content of dr pepper",
        # a determiner, a business, a place or a route
        "did i set march 10th as my doctor's appointment",
        "i paid for my friend's birthday dinner",
        "how is traffic nearest the ben franklin bridge",
        "when i visit kenya",
        "can i do a reservation at sammy's crab shack",
        "is denny's open",
        "i need a flight from boston to miami",
        "how much memory do i have left on this phone",
        # a service after signing in or paying
        "caller reports - Sign in with Okta just loops back to the login page.",
        "i paid with daniel",
        "log in with apple doesnt work",
        # lower-case words from another language beside capitalised names: this writer capitalises names
        "Hi Northwind team,\n\nLa app se cierra sola cada vez que abro el calendario.",
        "Agent: Northwind support, how can I help?\nCustomer: La app se cierra sola cada vez que abro el calendario.",
    ],
)
def test_dates_greetings_and_everyday_words_are_no_person(analyzer, text):
    assert _found(analyzer, text, "PERSON") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("my email is sam@gmail dot com", "sam@gmail dot com"),
        ("add sam at gmail dot com as a new contact", "sam at gmail dot com"),
        ("send the invoice to sam at gmail.com", "sam at gmail.com"),
        ("reach me at sam (at) gmail (dot) com", "sam (at) gmail (dot) com"),
        ("reach me at sam [at] gmail [dot] com", "sam [at] gmail [dot] com"),
        ("reply to sam @ gmail . com please", "sam @ gmail . com"),
        ("email john dot smith at outlook dot com the tickets", "john dot smith at outlook dot com"),
        ("my email is sam at gmail", "sam at gmail"),
        ("change my email to erosser at hotmail dot com", "erosser at hotmail dot com"),
    ],
)
def test_spelled_out_email_addresses_are_found(analyzer, text, address):
    assert _found(analyzer, text, "EMAIL_ADDRESS") == [address]


@pytest.mark.parametrize(
    "text",
    ["look at google.com for the answer", "email me at gmail dot com", "i'm at work. it is late", "meet me at the cafe", "at home at 5"],
)
def test_at_and_dot_that_are_no_address(analyzer, text):
    assert _found(analyzer, text, "EMAIL_ADDRESS") == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("my number is five five five, one two three, four five six seven", "five five five, one two three, four five six seven"),
        ("call me on oh seven seven double oh nine one two three four five six", "oh seven seven double oh nine one two three four five six"),
        ("text 555 one two three 4567 when you land", "555 one two three 4567"),
    ],
)
def test_phone_numbers_in_words_are_found(analyzer, text, number):
    assert _found(analyzer, text, "PHONE_NUMBER") == [number]


@pytest.mark.parametrize("text", ["count one two three", "i need two tickets for three people", "give me five minutes", "one or two"])
def test_number_words_that_are_no_phone(analyzer, text):
    assert _found(analyzer, text, "PHONE_NUMBER") == []


def _chat_corpus(n: int = 1500, seed: int = 3) -> list[str]:
    """Chat messages mixing listed, everyday-word and unlisted names, dates, greetings, addresses and numbers in words."""
    rng = random.Random(seed)
    names = ["bob", "Bob", "susan", "mark", "Mark", "will", "june", "Jan", "grace", "kyalo", "leon", "michael", "robin",
             "finlee", "daniel bell", "harry potter", "denny", "boston", "theres", "team"]  # fmt: skip
    templates = [
        "call {n}", "text {n} that i'm late", "lunch with {n} on friday", "{n}'s birthday", "{n}s birthday party",
        "did {n} reply", "how old is {n}", "{n} and i are going out", "the playlist {n} made", "a gift for {n}",
        "hi {n}, quick question", "on {n} 28 it broke", "my {n}'s appointment", "at {n}'s diner", "from {n} to miami",
        "cll {n}", "meeting wih {n}", "under the name {n}", "my sister {n}", "{n} made dinner", "is {n}'s open",
        "email {n} at gmail dot com", "{n} at hotmail.com", "tell {n} my number is five five five, one two three, four five six seven",
        "{n} oh seven seven double oh nine one two three four five six", "reach me at {n} (at) gmail (dot) com", "{n}",
    ]  # fmt: skip
    return [rng.choice(templates).format(n=rng.choice(names)) for _ in range(n)]


def test_prescreen_is_lossless_with_the_chat_recognizers(analyzer):
    texts = _chat_corpus()
    assert _prescreen(sorted(CHAT.entities), analyzer) is not None  # the screen is in use for these entities
    screened = scan_pii(texts, CHAT, analyzer)
    full = scan_pii(texts, CHAT.model_copy(update={"prescreen": False}), analyzer)
    assert screened == full
    assert {f.entity for fs in full for f in fs} == set(CHAT.entities)  # every recognizer fires somewhere
    screen = _prescreen(sorted(CHAT.entities), analyzer)
    assert sum(not screen.search(t) for t in texts) > 0.05 * len(texts)  # and the screen skips texts


def test_date_words_and_function_words():
    dates = date_words()
    assert {"march", "jan", "sunday", "sat", "christmas", "easter"} <= dates
    words = function_words({"there", "what", "this"})
    assert {"theres", "whats", "dont", "im", "this"} <= words


def test_every_faker_locale_feeds_the_chat_lists():
    first, last = faker_names()
    assert {"kyalo", "susan", "chinedu"} <= first  # en_KE, en_US, ig_NG
    assert all(w == w.lower() for w in itertools.islice(first, 500))
    assert len(first) > 15_000 and len(last) > 15_000


def test_everyday_names_by_lexeme_probability():
    probs = {"will": -6.2, "Will": -9.8, "john": -13.0, "John": -10.1, "grace": -12.1, "Grace": -12.8, "zyx": -18.0}
    assert everyday_names(probs, ["will", "john", "grace", "zyx", "unseen"]) == ["grace", "will"]
    listed = read_everyday()
    assert {"will", "mark", "bill", "grace"} <= listed and "john" not in listed and "susan" not in listed


def test_everyday_file_is_current():
    lookups = pytest.importorskip("spacy_lookups_data")  # python -m synthkit.gates.name_words rebuilds it
    from spacy.lookups import load_lookups

    assert lookups is not None
    probs = load_lookups("en", ["lexeme_prob"]).get_table("lexeme_prob")
    first, last = faker_names()
    assert frozenset(everyday_names(probs, sorted(first | last))) == read_everyday()


def test_cheap_guards_never_turn_down_a_screen_match():
    from synthkit.gates.pii_informal import EMAIL_SCREEN, PHONE_WORD_SCREEN, may_hold_email, may_hold_spoken_phone

    rng = random.Random(11)
    pieces = ["at", "AT", "At", " ", "\t", "\n", "\u00a0", "[", "]", "(", ")", "@", "gmail", "x", ".", "dot", "one", "Two",
              "oh", "double", "-", ",", "5", "\uff15", "_", "ty", "that"]  # fmt: skip
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))) for _ in range(20000)]
    emails = [t for t in texts if EMAIL_SCREEN.search(t)]
    phones = [t for t in texts if PHONE_WORD_SCREEN.search(t)]
    assert len(emails) > 500 and len(phones) > 500
    assert all(may_hold_email(t.lower()) for t in emails)
    assert all(may_hold_spoken_phone(t) for t in phones)
    assert sum(not may_hold_email(t.lower()) for t in texts) > 1000  # and they do turn texts down


@pytest.mark.parametrize("text", ["Hello, my NAME is Ａｎｎａ", "ｆｉｎｅ. thanks", "x_bob y", "bob's", "İsa", "J. Smith", "a-b c"])
def test_letter_words_match_the_word_regex(text):
    from synthkit.gates.pii_informal import _WORD, letter_words

    assert letter_words(text) == _WORD.findall(text.lower())


def test_phone_run_check_never_turns_down_a_run():
    from synthkit.gates.pii_informal import may_hold_phone_run, spoken_phone_runs

    rng = random.Random(5)
    pieces = ["one", "Two", "oh", "o", "double", "triple", "hundred", "twenty", "five", "seven", "555", "12", "4",
              " ", ", ", "-", "(", ")", ".", "/", "+", "x", "stone", "ten", "\n", "_", "\uff15"]  # fmt: skip
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(2, 16))) for _ in range(20000)]
    runs = [t for t in texts if spoken_phone_runs(t)]
    assert len(runs) > 500
    assert all(may_hold_phone_run(t) for t in runs)
    assert sum(not may_hold_phone_run(t) for t in texts) > 1000


# A name that is part of a business, venue, place or work title is no person; the same name where a person is meant
# still is. Each case: (text without a person, text with the person, the name).
NOT_PEOPLE_BESIDE_PEOPLE = [
    # a bare possessive: the business itself
    ("is there a reservation for sally's at 7 pm", "is there a reservation for sally at 7 pm", "sally"),
    ("what time does katie's close tonight", "what time does katie's flight land tonight", "katie"),
    # "X's house of ...": a business; "X's house": a person's
    ("does joe's house of pancakes open early", "how long is the drive to joe's house", "joe"),
    # a venue, place or title noun right after the name
    ("tell me some jessica jones trivia", "tell jessica jones the meeting moved", "jessica jones"),
    ("how do i get to kevin field by bus", "text kevin the bus times", "kevin"),
    # a place prefix
    ("how far is santa monica from here", "how old is monica", "monica"),
    # what a business is or does
    ("is giovanni busy on friday nights", "is giovanni coming on friday night", "giovanni"),
    ("does giovanni take reservations", "does giovanni take the bus to work", "giovanni"),
    # a text about a place
    ("i need a visa for brenda", "i need a gift for brenda", "brenda"),
    # a travel word right before a name that is a place too
    ("i am visiting asia soon", "i need to text asia", "asia"),
    # "at X": a venue
    ("book a table at giovanni tonight", "book a table for giovanni tonight", "giovanni"),
    # "X and Y" naming a venue where tables are reserved
    ("check my reservation for carter and stonebridge at 8", "check my reservation for carter and me at 8", "carter"),
    # a day number after the word: a mistyped month
    ("rent a car from marc 5th to 9th", "rent a car for marc", "marc"),
    # paying or topping up "with": a means of payment
    ("can i top up my card with cash", "can i catch up with carl", "carl"),
]


@pytest.mark.parametrize(("business", "person", "name"), NOT_PEOPLE_BESIDE_PEOPLE)
def test_names_in_businesses_venues_places_and_titles_are_no_person(analyzer, business, person, name):
    assert _found(analyzer, business, "PERSON") == []
    assert _found(analyzer, person, "PERSON") == [name]


@pytest.mark.parametrize(("text", "name"), [("hello, friend", None), ("hello, frank", "frank"), ("call my friend", None), ("call my friend frank", "frank")])
def test_kin_words_are_no_name(analyzer, text, name):
    assert _found(analyzer, text, "PERSON") == ([name] if name else [])


def test_span_results_name_their_recognizer():
    from synthkit.gates.pii_informal import informal_recognizers, span_results

    recognizer = informal_recognizers(lambda: (frozenset(), frozenset()))[0]
    [result] = span_results(recognizer, "EMAIL_ADDRESS", [(3, 9, 0.8)])
    assert (result.entity_type, result.start, result.end, result.score) == ("EMAIL_ADDRESS", 3, 9, 0.8)
    assert result.recognition_metadata == {"recognizer_name": recognizer.name, "recognizer_identifier": recognizer.id}
    assert result.analysis_explanation.recognizer == "InformalEmailRecognizer"
