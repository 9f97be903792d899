"""Names and phone dictation as callers say them (issue 9, failure classes 3 and 5).

Phrasings come from seeded generators (digits as words in triples, pairs or singles, typed digits,
fillers at random places, ASR lower case) besides hand-written tables; every test asserts the
extracted value. Names go through the RuleExtractor (the real caller of ``names``); the phone
through it too where the wiring exists, and through ``extract_phone`` for the continuation of a
partial number and the correction of a stored one, whose state the engine keeps.
"""

from __future__ import annotations

import random

import pytest
from tests.support.corpus_words import UNITS, group_words

from salesagent import clock
from salesagent.dialog.extract.base import Extraction, ExtractionContext
from salesagent.dialog.extract.phone import extract_phone, is_prefix
from salesagent.dialog.extract.rules import RuleExtractor
from salesagent.dialog.extract.text import Utterance
from salesagent.dialog.states import State

SEED = 20261203
N = 60  # generated phrasings per test


@pytest.fixture(scope="module")
def extractor(profile) -> RuleExtractor:
    rules = RuleExtractor()
    rules.warm_up()
    return rules


@pytest.fixture
def run(extractor, profile):
    def _run(text: str, *expected: str, state: State = State.GREETING) -> Extraction:
        ctx = ExtractionContext(state=state, now=clock.now(profile.tz), profile=profile, expected=expected)
        return extractor.extract(text, ctx)

    return _run


def asked_name(run, text: str) -> str | None:
    return run(text, "client_name", state=State.ASK_CLIENT_NAME).client_name


# -- names -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, name", [
    ("зинаида петровна", "Зинаида Петровна"),
    ("Зинаида Петровна.", "Зинаида Петровна"),
    ("любовь николаевна", "Любовь Николаевна"),
    ("вера", "Вера"), ("Вера.", "Вера"), ("меня вера зовут", "Вера"), ("это надежда", "Надежда"),
    ("надежда вот", "Надежда"), ("роман", "Роман"), ("роман да", "Роман"), ("это роман", "Роман"),
    ("лев", "Лев"), ("роза", "Роза"), ("мила", "Мила"), ("слава", "Слава"), ("любовь", "Любовь"),
    ("роман юрьевич это", "Роман Юрьевич"), ("вера викторовна это да", "Вера Викторовна"),
    ("иванова мария", "Мария"), ("петров сергей иванович", "Сергей Иванович"),
    ("пишите лебедева анна ивановна", "Анна Ивановна"), ("кузнецова елена", "Елена"),
    ("меня зовут э-э ольга", "Ольга"), ("ольга это я", "Ольга"), ("ну это ольга", "Ольга"),
    ("записывать на маму её зовут галина", "Галина"), ("таня", "Таня"), ("саша", "Саша"),
    ("антонина вот", "Антонина"), ("Ольгой Петровной меня зовут", "Ольга Петровна"),
    ("антонины николаевны", "Антонина Николаевна"), ("меня зовут айгерим", "Айгерим"),
    ("да василий викторович а что", "Василий Викторович"),
])
def test_answer_to_the_name_question(run, text, name):
    assert asked_name(run, text) == name


@pytest.mark.parametrize("text", ["вера в лучшее", "слава богу", "я надеюсь что быстро", "да", "это я",
                                  "я хочу на мрт", "а зачем вам", "я хочу к сергею петровичу"])
def test_no_name_in_a_non_answer_to_the_name_question(run, text):
    assert asked_name(run, text) is None


@pytest.mark.parametrize("text, name", [
    ("добрый день это нина ивановна звоню записаться", "Нина Ивановна"),
    ("алло здравствуйте михаил беспокоит мне бы на узи", "Михаил"),
    ("меня вера зовут хочу на мрт", "Вера"), ("меня зовут роман", "Роман"),
    ("здравствуйте меня сергей зовут", "Сергей"), ("любовь николаевна хочу на мрт колена", "Любовь Николаевна"),
    ("я ольга хочу на мрт колена", "Ольга"),
])
def test_names_volunteered_in_other_states(run, text, name):
    assert run(text, state=State.GREETING).client_name == name


@pytest.mark.parametrize("state", [State.GREETING, State.ASK_SYMPTOMS, State.ASK_APPOINTMENT_DATE])
@pytest.mark.parametrize("text", ["я надеюсь что не больно", "вера в лучшее осталась", "это надежда моя последняя",
                                  "слава богу не болит", "роман читала", "вера в пятницу", "я роман читала",
                                  "у меня любовь к спорту", "я хочу к сергею петровичу"])
def test_words_that_are_names_are_no_names_outside_the_name_question(run, state, text):
    assert run(text, state=state).client_name is None


GIVEN = {"femn": ["ольга", "зинаида", "вера", "любовь", "надежда", "татьяна", "наталья", "галина", "марина",
                  "елена", "антонина", "таня", "роза", "лилия", "нина"],
         "masc": ["сергей", "роман", "лев", "михаил", "иван", "андрей", "юрий", "николай", "саша", "виктор"]}
PATRONYMIC = {"femn": ["петровна", "ивановна", "николаевна", "юрьевна", "сергеевна", "викторовна"],
              "masc": ["петрович", "иванович", "николаевич", "юрьевич", "сергеевич", "викторович"]}
SURNAME = {"femn": ["иванова", "петрова", "смирнова", "кузнецова", "лебедева"],
           "masc": ["иванов", "петров", "смирнов", "кузнецов", "лебедев"]}
NAME_FRAMES = ["{n}", "меня зовут {n}", "{n} меня зовут", "это {n}", "да {n}", "меня зовут э-э {n}", "{n} это я",
               "{s} {n}", "пишите {s} {n}", "ну {n}", "{n} вот", "да это {n} говорит", "Меня зовут {N}."]


def _name_cases(seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(N):
        gender = rng.choice(["femn", "masc"])
        given = rng.choice(GIVEN[gender])
        spoken, expected = given, given.capitalize()
        if rng.random() < 0.5:
            patr = rng.choice(PATRONYMIC[gender])
            spoken, expected = f"{given} {patr}", f"{expected} {patr.capitalize()}"
        frame = rng.choice(NAME_FRAMES)
        text = frame.format(n=spoken, N=spoken.title(), s=rng.choice(SURNAME[gender]))
        cases.append((text, expected))
    return cases


@pytest.mark.parametrize("text, name", _name_cases(SEED))
def test_generated_answers_to_the_name_question(run, text, name):
    assert asked_name(run, text) == name


# -- phone: a spoken-number generator ------------------------------------------------------------
FILLERS = ["ну", "э-э", "эээ", "так", "значит", "вот", "эм", "..."]
PREFIXES = ["", "ну ", "записывайте ", "мой номер ", "телефон ", "пишите ", "да ", "номер "]
SUFFIXES = ["", " это мой", " это мобильный", " записали"]


def _say_group(group: str, rng: random.Random, after_round: bool = False) -> str:
    """One group as a caller says it: cardinal words, digit by digit, or typed digits. After a
    round group said in words ("девятьсот семьдесят") single digits would run into it for any
    listener ("... семьдесят пять один три"), so they are not used there."""
    if len(group) == 4:  # "4567": two pairs
        return f"{_say_group(group[:2], rng, after_round)} {_say_group(group[2:], rng, group[1] == '0')}"
    style = rng.random()
    if style < 0.6:
        return group_words(group)
    if style < 0.85 and not after_round:
        return " ".join(UNITS[int(d)] for d in group)
    return group


def _say_groups(groups: list[str], rng: random.Random) -> list[str]:
    said: list[str] = []
    for k, g in enumerate(groups):
        prev_round = k > 0 and groups[k - 1].endswith("0") and not said[-1][:1].isdigit()
        said.append(_say_group(g, rng, prev_round))
    return said


def _groups(national: str, rng: random.Random) -> list[str]:
    a, b, c, d, e = national[:3], national[3:6], national[6:8], national[8:], national[6:]
    return rng.choice([[a, b, c, d], [a, b, c, d], [a, b, e]])


def _number(rng: random.Random) -> str:
    """A national number whose spoken groups words2num2 cannot run together: "сто" + "двадцать
    три" said without a pause is 123 to any listener, so the third group is never a round hundred."""
    while True:
        national = "9" + "".join(rng.choice("0123456789") for _ in range(9))
        if national[4:6] != "00":
            return national


def _trunk(rng: random.Random) -> tuple[str, str]:
    return rng.choice([("восемь", "8"), ("8", "8"), ("плюс семь", "+7"), ("", "")])


def _speak(parts: list[str], rng: random.Random, filler_rate: float = 0.35) -> str:
    out: list[str] = []
    for k, part in enumerate(parts):
        if k and rng.random() < filler_rate:
            out.append(rng.choice(FILLERS))
        out.append(part)
    text = " ".join(p for p in out if p)
    return text.replace(" ...", "...")


def _dictation(rng: random.Random) -> tuple[str, str]:
    national = _number(rng)
    trunk, _ = _trunk(rng)
    said = [trunk, *_say_groups(_groups(national, rng), rng)]
    text = rng.choice(PREFIXES) + _speak(said, rng) + rng.choice(SUFFIXES)
    return text, "+7" + national


def _phone(run, text: str) -> Extraction:
    return run(text, "phone", state=State.ASK_PHONE)


@pytest.mark.parametrize("text, phone", [
    ("ну... восемь... девятьсот... э-э... шестнадцать... сто тридцать два... двенадцать... сорок пять",
     "+79161321245"),
    ("8 916 сто двадцать три 45 67", "+79161234567"),
    ("плюс семь девятьсот шестнадцать эм сто тридцать два двенадцать сорок пять", "+79161321245"),
    ("восемь девятьсот э-э шестнадцать сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
    ("восемь девятьсот шестнадцать сто двадцать три сорок э пять шестьдесят семь", "+79161234567"),
    ("девять один шесть один два три четыре пять шесть семь", "+79161234567"),
    ("восемь, девятьсот шестнадцать, сто, двадцать три, сорок пять", "+79161002345"),
    ("восемь девятьсот сто двадцать три сорок пять шестьдесят семь", "+79001234567"),
])
def test_dictation_with_fillers_and_mixed_digits(run, text, phone):
    got = _phone(run, text)
    assert got.phone == phone
    assert (got.age, got.weight, got.date) == (None, None, None)


@pytest.mark.parametrize("i", range(N))
def test_generated_dictations(run, i):
    text, phone = _dictation(random.Random(SEED + i))
    got = _phone(run, text)
    assert got.phone == phone, text
    assert (got.age, got.weight, got.date, got.number) == (None, None, None, None), text


# -- phone: a group corrected inside or after the dictation --------------------------------------
@pytest.mark.parametrize("text", [
    "восемь девятьсот шестнадцать, сто двадцать три, ой, не сто двадцать три, а сто тридцать два, "
    "двенадцать сорок пять",
    "8 916 123 12 45 нет не 123 а 132",
    "восемь девятьсот шестнадцать сто двадцать три двенадцать сорок пять ой не сто двадцать три а сто тридцать два",
    "восемь девятьсот шестнадцать сто двадцать три нет сто тридцать два двенадцать сорок пять",
    "восемь девятьсот шестнадцать сто двадцать три то есть сто тридцать два двенадцать сорок пять",
    "8 916 123 12 45 нет 8 916 132 12 45",
])
def test_a_group_corrected_in_the_dictation(run, text):
    got = _phone(run, text)
    assert got.phone == "+79161321245"
    assert (got.weight, got.age, got.number) == (None, None, None)


def _corrected(rng: random.Random) -> tuple[str, str]:
    national = _number(rng)
    groups = [national[:3], national[3:6], national[6:8], national[8:]]
    k = rng.randrange(1, 4)
    while True:
        wrong = "".join(rng.choice("0123456789") for _ in groups[k])
        if wrong not in groups and not (k == 1 and wrong.endswith("00")):
            break
    said = _say_groups(groups, rng)
    # a group taken back is said as a number ("не сорок пять, а шестьдесят три"), not digit by digit
    bad = group_words(wrong) if rng.random() < 0.8 else wrong
    said[k] = good = group_words(groups[k]) if rng.random() < 0.8 else groups[k]
    if k + 1 < len(said) and groups[k].endswith("0") and not good.isdigit():
        said[k + 1] = group_words(groups[k + 1])
    how = rng.choice(["inside", "after", "take_back"])
    if how == "after":
        said[k] = bad
    elif how == "inside":
        said[k] = f"{bad} {rng.choice(['ой', 'ой нет', 'нет', 'ой ошиблась'])} не {bad} а {good}"
    elif how == "take_back":
        said[k] = f"{bad} {rng.choice(['нет', 'то есть', 'ой', 'вернее'])} {good}"
    text = _speak(["восемь", *said], rng, 0.2)
    if how == "after":
        text += f" {rng.choice(['ой', 'нет', 'ой нет', 'извините'])} не {bad} а {good}"
    return text, "+7" + national


@pytest.mark.parametrize("i", range(N))
def test_generated_group_corrections(run, i):
    text, phone = _corrected(random.Random(SEED * 7 + i))
    got = _phone(run, text)
    assert got.phone == phone, text
    assert (got.weight, got.age, got.number) == (None, None, None), text


# -- phone: a number split over two turns (API the engine keeps the partial digits for) ----------
def _continue(so_far: str | None, text: str):
    return extract_phone(Utterance(text), dictation=True, so_far=so_far)


@pytest.mark.parametrize("first, partial, second, phone", [
    ("восемь девятьсот шестнадцать", "8916", "сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
    ("ну восемь девятьсот", "8900", "э шестнадцать сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
    ("8 916 123", "8916123", "не 123 а 132 45 67", "+79161324567"),
    ("плюс семь девятьсот шестнадцать", "7916", "123 45 67", "+79161234567"),
    ("восемь девятьсот шестнадцать", "8916", "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
     "+79161234567"),
])
def test_a_number_split_over_two_turns(first, partial, second, phone):
    one = _continue(None, first)
    assert (one.phone, one.partial) == (None, partial)
    two = _continue(one.partial, second)
    assert two.phone == phone


@pytest.mark.parametrize("i", range(N))
def test_generated_numbers_split_over_turns(i):
    rng = random.Random(SEED * 13 + i)
    national = _number(rng)
    groups = [national[:3], national[3:6], national[6:8], national[8:]]
    cut = rng.randrange(1, 4)
    said = _say_groups(groups, rng)
    first = _speak(["восемь", *said[:cut]], rng)
    second = _speak(said[cut:], rng)
    one = _continue(None, first)
    assert one.phone is None and one.partial == "8" + "".join(groups[:cut]), first
    assert _continue(one.partial, second).phone == "+7" + national, (first, second)


def test_no_partial_from_words_that_begin_no_number():
    assert _continue(None, "мне сорок пять").partial is None
    assert _continue(None, "ну").partial is None
    assert _continue("8916", "да да").partial is None
    assert extract_phone(Utterance("восемь девятьсот шестнадцать")).partial is None  # not asked: no dictation
    assert is_prefix("8916") and is_prefix("916") and not is_prefix("45") and not is_prefix("89161234567")


# -- phone: correcting the stored number ---------------------------------------------------------
STORED = "+79161231245"


@pytest.mark.parametrize("text", ["не сто двадцать три, а сто тридцать два", "ой подождите, там не сто двадцать три а "
                                  "сто тридцать два", "поправьте не 123 а 132", "Не 123, а 132."])
@pytest.mark.parametrize("dictation", [True, False])
def test_a_group_of_the_stored_number_corrected(text, dictation):
    got = extract_phone(Utterance(text), dictation=dictation, so_far=STORED)
    assert (got.phone, got.corrected) == ("+79161321245", True)


@pytest.mark.parametrize("text, dictation, phone", [
    ("не 12 а 21", True, "+79161232145"),  # two digits: the phone is the topic
    ("в номере не 12 а 21", False, "+79161232145"),
    ("не 80 а 77", False, None),  # a weight taken back, not a phone
    ("вес не 12 а 21", False, None),
    ("не 555 а 556", False, None),  # not in the number
])
def test_short_corrections_touch_the_stored_number_only_when_it_is_the_topic(text, dictation, phone):
    assert extract_phone(Utterance(text), dictation=dictation, so_far=STORED).phone == phone


@pytest.mark.parametrize("i", range(40))
def test_a_dictation_cut_after_two_groups_stays_partial_whatever_the_commas(run, i):
    """The caller paused after "восемь девятьсот пятнадцать семьсот сорок пять" and Whisper put
    commas where the voice paused, inside groups too ("девятьсот, пятнадцать, семьсот, сорок
    пять"): those 7 digits were read as 8 900 15 700 45, a full number no one said. They must stay
    the beginning of a number, to be completed next turn."""
    rng = random.Random(7000 + i)
    national = _number(rng)
    words = ("восемь " + " ".join(group_words(g) for g in (national[:3], national[3:6]))).split()
    text = " ".join(w + ("," if rng.random() < 0.5 else "") for w in words).rstrip(",") + "."
    got = _phone(run, text.capitalize())
    assert got.phone is None, text
