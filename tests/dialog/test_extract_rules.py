"""RuleExtractor on whole utterances, as ASR delivers them (lower case, no punctuation, slips).

Every expected value is worked out by hand from the frozen clock: SALESAGENT_NOW is Wednesday
2026-11-25 11:00 Moscow, so "в пятницу" is 2026-11-27 and "на следующей неделе во вторник" is
2026-12-01.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from salesagent import clock
from salesagent.dialog.extract.base import DateRequest, Extraction, ExtractionContext, Extractor, Intent
from salesagent.dialog.extract.rules import RuleExtractor
from salesagent.dialog.states import State

WED = date(2026, 11, 25)
THU, FRI, SAT = date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)
NEXT_TUE = date(2026, 12, 1)


@pytest.fixture(scope="session")
def extractor(profile) -> RuleExtractor:
    rules = RuleExtractor()
    rules.warm_up(profile)
    return rules


@pytest.fixture
def run(extractor, profile):
    def _run(text: str, *expected: str, state: State = State.GREETING) -> Extraction:
        ctx = ExtractionContext(state=state, now=clock.now(profile.tz), profile=profile, expected=expected)
        return extractor.extract(text, ctx)

    return _run


def test_implements_the_protocol(extractor):
    assert isinstance(extractor, Extractor)
    assert extractor.name == "rules"


def test_clock_is_frozen_on_a_wednesday(profile):
    assert clock.now(profile.tz).date() == WED and WED.weekday() == 2


# -- several slots at once ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "я Ольга, хочу на МРТ колена в пятницу",
    "я ольга хочу на мрт колена в пятницу",
    "я ольга хочу на мрт калена в пятницу",
])
def test_volunteered_utterance_fills_several_slots(run, text):
    got = run(text)
    assert (got.client_name, got.modality, got.body_part) == ("Ольга", "mri", "knee")
    assert got.date == DateRequest(day=FRI)


# -- age and weight ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, age", [
    ("мне сорок пять", 45), ("45 лет", 45), ("шестьдесят два года", 62), ("мне уже семьдесят один год", 71),
    ("Мне 38.", 38),
])
def test_age(run, text, age):
    got = run(text)
    assert got.age == age and got.weight is None and got.symptoms_duration is None


@pytest.mark.parametrize("text, weight", [
    ("вешу под сто", 100), ("около восьмидесяти килограмм", 80), ("девяносто кило", 90), ("вес 72 кг", 72),
    ("вешу сто двадцать", 120), ("ста двадцати килограммов", 120),
])
def test_weight(run, text, weight):
    got = run(text)
    assert got.weight == weight and got.age is None


@pytest.mark.parametrize("text, age, weight", [
    ("сорок пять и восемьдесят", 45, 80),
    ("сорок пять восемьдесят", 45, 80),
    ("мне шестьдесят вешу около ста", 60, 100),
    ("семьдесят килограмм и тридцать лет", 30, 70),
])
def test_age_and_weight_in_one_reply(run, text, age, weight):
    got = run(text, "age", "weight", state=State.ASK_AGE_WEIGHT)
    assert (got.age, got.weight) == (age, weight)


def test_bare_number_goes_to_number_when_not_asked(run):
    got = run("двадцать три")
    assert got.number == 23 and got.age is None and got.weight is None


def test_bare_number_is_the_age_when_age_is_asked(run):
    assert run("тридцать семь", "age").age == 37


# -- phone -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, phone", [
    ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
    ("плюс семь девятьсот три пятьсот пятьдесят пять двенадцать ноль один", "+79035551201"),
    ("8 916 123-45-67", "+79161234567"),
    ("89161234567", "+79161234567"),
    ("+7 (903) 555-12-01", "+79035551201"),
    ("восемь девять один шесть один два три четыре пять шесть семь", "+79161234567"),
    ("мой номер восемь девятьсот шестнадцать эээ сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
    ("девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "+79161234567"),
])
def test_phone_in_any_grouping(run, text, phone):
    got = run(text, "phone", state=State.ASK_PHONE)
    assert got.phone == phone
    assert got.number is None and got.date is None and got.age is None


@pytest.mark.parametrize("text, tail", [
    ("последние цифры шестьдесят восемь", "68"),
    ("в конце не шестьдесят семь а шестьдесят восемь", "68"),
    ("последние четыре цифры сорок пять шестьдесят восемь", "4568"),
])
def test_phone_tail_correction(run, text, tail):
    got = run(text, "phone", state=State.ASK_PHONE)
    assert got.phone is None and got.phone_tail == tail


def test_too_short_number_is_not_a_phone(run):
    assert run("восемь девятьсот шестнадцать", "phone").phone is None


# -- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, request_", [
    ("в пятницу в десять", DateRequest(day=FRI, at=time(10, 0))),
    ("давайте в пятницу часов в десять", DateRequest(day=FRI, at=time(10, 0))),
    ("завтра", DateRequest(day=THU)),
    ("Завтра.", DateRequest(day=THU)),
    ("послезавтра после обеда", DateRequest(day=FRI, part_of_day="afternoon")),
    ("двенадцатого декабря в три часа дня", DateRequest(day=date(2026, 12, 12), at=time(15, 0))),
    ("12 декабря в 15:00", DateRequest(day=date(2026, 12, 12), at=time(15, 0))),
    ("в субботу утром", DateRequest(day=SAT, part_of_day="morning")),
    ("в субботу вечером", DateRequest(day=SAT, part_of_day="evening")),
    ("на следующей неделе во вторник", DateRequest(day=NEXT_TUE)),
    ("в половине одиннадцатого", DateRequest(at=time(10, 30))),
    ("в 14:30", DateRequest(at=time(14, 30))),
    ("к девяти", DateRequest(at=time(9, 0))),
    ("в три", DateRequest(at=time(15, 0))),
    ("в десять", DateRequest(at=time(10, 0))),
    ("в семь вечера", DateRequest(at=time(19, 0))),
    ("без пятнадцати три", DateRequest(at=time(14, 45))),
    ("в десять тридцать", DateRequest(at=time(10, 30))),
    ("двадцать первого декабря", DateRequest(day=date(2026, 12, 21))),
    ("через неделю", DateRequest(day=date(2026, 12, 2))),
    ("второго января", DateRequest(day=date(2027, 1, 2))),
    ("в четверг до обеда", DateRequest(day=THU, part_of_day="morning")),
    ("в пятницу в час дня", DateRequest(day=FRI, at=time(13, 0))),
])
def test_dates(run, text, request_):
    assert run(text, state=State.ASK_APPOINTMENT_DATE).date == request_


@pytest.mark.parametrize("text", ["нет, не в пятницу, а в субботу", "нет не в пятницу а в субботу",
                                  "не в пятницу а лучше в субботу"])
def test_day_correction(run, text):
    got = run(text, state=State.CONFIRM_TIME)
    assert got.date == DateRequest(day=SAT, not_day=FRI)
    assert Intent.CORRECTION in got.intents and Intent.NO not in got.intents


def test_time_correction(run):
    got = run("не в десять а в одиннадцать")
    assert got.date == DateRequest(at=time(11, 0), not_at=time(10, 0))
    assert Intent.CORRECTION in got.intents


@pytest.mark.parametrize("text", ["две недели", "болит уже два года", "в два раза сильнее", "с понедельника",
                                  "мне сорок пять лет", "вешу под сто"])
def test_durations_ages_and_weights_are_not_dates(run, text):
    assert run(text).date is None


def test_bare_hour_is_a_time_when_the_time_is_asked(run):
    assert run("одиннадцать", "appointment_datetime", state=State.OFFER_APPOINTMENT_TIMES).date == DateRequest(
        at=time(11, 0)
    )


# -- names -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected, name", [
    ("меня зовут Ольга", (), "Ольга"),
    ("меня зовут ольга", (), "Ольга"),
    ("я Ольга", (), "Ольга"),
    ("Ольга Петровна", (), "Ольга Петровна"),
    ("ольга петровна", (), "Ольга Петровна"),
    ("это Иван", (), "Иван"),
    ("это иван", (), "Иван"),
    ("ольга", ("client_name",), "Ольга"),
    ("Ольгой меня зовут", (), "Ольга"),
    ("здравствуйте меня сергей зовут", (), "Сергей"),
])
def test_names(run, text, expected, name):
    assert run(text, *expected).client_name == name


@pytest.mark.parametrize("text, expected", [
    ("я хочу на мрт", ()), ("я хочу на мрт", ("client_name",)), ("это я", ("client_name",)), ("да", ("client_name",)),
    ("это колено болит", ()), ("я хочу к сергею петровичу", ()), ("вера в пятницу", ()),
])
def test_no_false_names(run, text, expected):
    assert run(text, *expected).client_name is None


# -- study: modality and body part --------------------------------------------------------------
@pytest.mark.parametrize("text, modality, body_part", [
    ("хочу на мрт колена", "mri", "knee"),
    ("мрт коленного сустава", "mri", "knee"),
    ("сделать кт лёгких", "ct", "chest"),
    ("сделать кт легких", "ct", "chest"),
    ("узи щитовидки", "us", "thyroid"),
    ("им прот колена", "mri", "knee"),
    ("эмэртэ головного мозга", "mri", "brain"),
    ("Компьютерную томографию пазух", "ct", "sinuses"),
    ("ультразвук почек", "us", "kidneys"),
    ("мрт поясницы", "mri", "lumbar_spine"),
    ("магнитно-резонансную томографию плечевого сустава", "mri", "shoulder"),
])
def test_study_request(run, text, modality, body_part):
    got = run(text, state=State.ASK_STUDY_REQUEST)
    assert (got.modality, got.body_part) == (modality, body_part)


def test_body_part_from_a_symptom_word(run):
    got = run("у меня мениск", "symptoms", state=State.ASK_SYMPTOMS)
    assert got.body_part == "knee" and got.modality is None


def test_march_is_not_mri(run):
    assert run("с марта болит колено").modality is None


# -- complaint ---------------------------------------------------------------------------------
def test_complaint_text_duration_and_pain(run):
    got = run("ну болит колено уже две недели ноющая боль", "symptoms", state=State.ASK_SYMPTOMS)
    assert got.symptoms == "болит колено уже две недели ноющая боль"
    assert (got.body_part, got.symptoms_duration, got.pain_character) == ("knee", "2 недели", "ноющая")


@pytest.mark.parametrize("text, duration", [
    ("две недели", "2 недели"), ("месяца три", "3 месяца"), ("с понедельника", "с понедельника"), ("давно", "давно"),
    ("уже года два", "2 года"), ("пять дней", "5 дней"), ("где-то месяц", "1 месяц"), ("полгода", "полгода"),
    ("неделю назад началось", "1 неделя"), ("полтора месяца", "полтора месяца"), ("около года", "1 год"),
])
def test_symptoms_duration(run, text, duration):
    got = run(text, "symptoms_duration", state=State.ASK_SYMPTOMS_DURATION)
    assert got.symptoms_duration == duration and got.date is None and got.age is None


@pytest.mark.parametrize("text, character", [
    ("острая", "острая"), ("ноющая", "ноющая"), ("тянущая боль", "тянущая"), ("колет", "колющая"),
    ("жгучая", "жгучая"), ("стреляет", "стреляющая"), ("пульсирующая", "пульсирующая"),
    ("при движении", "при движении"), ("скорее ноющая, но при движении острая", "ноющая, острая, при движении"),
    ("не острая а ноющая", "ноющая"),
    # ASR slips (Whisper base on a telephone line): one letter off an adjective of 6+ letters
    ("нающая боль", "ноющая"), ("нающий оболь", "ноющая"), ("тянушая", "тянущая"), ("пульсируюшая", "пульсирующая"),
])
def test_pain_character(run, text, character):
    assert run(text, "pain_character", state=State.ASK_PAIN_CHARACTER).pain_character == character


@pytest.mark.parametrize("text", ["добавить", "нужная мне дата", "большая просьба", "давайте завтра"])
def test_near_words_are_not_guessed_as_pain(run, text):
    assert run(text, "pain_character", state=State.ASK_PAIN_CHARACTER).pain_character is None


def test_no_complaint_in_a_plain_answer(run):
    assert run("не знаю", "symptoms", state=State.ASK_SYMPTOMS).symptoms is None


# -- contraindications and discounts -----------------------------------------------------------
@pytest.mark.parametrize("text, ids", [
    ("у меня кардиостимулятор", ["pacemaker"]),
    ("стоит пластина в ноге", ["metal_implants"]),
    ("я беременна", ["pregnancy_first_trimester"]),
    ("кардиостимулятор и помпа инсулиновая", ["pacemaker", "insulin_pump"]),
    ("боюсь замкнутого пространства", ["claustrophobia"]),
    ("у меня кардиостимулятр", ["pacemaker"]),
])
def test_contraindications(run, text, ids):
    assert run(text, state=State.CHECK_CONTRAINDICATIONS).contraindications == ids


@pytest.mark.parametrize("text", ["нет ничего такого", "ничего из этого", "кардиостимулятора нет",
                                  "нет у меня никаких пластин", "нет"])
def test_denied_contraindications(run, text):
    got = run(text, state=State.CHECK_CONTRAINDICATIONS)
    assert got.contraindications == [] and Intent.NO in got.intents


@pytest.mark.parametrize("text, ids", [("я пенсионерка", ["pensioner"]), ("я студент", ["student"]),
                                       ("я уже была у вас", ["repeat_visit"])])
def test_discounts(run, text, ids):
    assert run(text, state=State.CHECK_DISCOUNTS).discounts == ids


# -- intents and FAQ ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, intent", [
    ("да", Intent.YES), ("да конечно", Intent.YES), ("Ага.", Intent.YES), ("все верно", Intent.YES),
    ("нет", Intent.NO), ("не надо", Intent.NO), ("неа", Intent.NO),
    ("не буду записываться", Intent.DECLINE), ("дорого не хочу", Intent.DECLINE),
    ("перезвоните позже", Intent.CALLBACK), ("мне сейчас неудобно говорить", Intent.CALLBACK),
    ("соедините с администратором", Intent.HUMAN), ("хочу поговорить с человеком", Intent.HUMAN),
    ("не знаю", Intent.DONT_KNOW), ("не помню", Intent.DONT_KNOW),
    ("повторите пожалуйста", Intent.REPEAT), ("не расслышал", Intent.REPEAT),
    ("поправка", Intent.CORRECTION),
])
def test_intents(run, text, intent):
    assert intent in run(text).intents


@pytest.mark.parametrize("text", ["Дай.", "Даа", "да да да"])
def test_a_drawn_out_da_misheard_by_asr_is_yes(run, text):
    assert run(text).intents == {Intent.YES}


@pytest.mark.parametrize("text", ["дайте подумать", "дай мне минуту"])
def test_dai_inside_a_sentence_is_not_yes(run, text):
    assert Intent.YES not in run(text).intents


def test_dont_know_is_not_no(run):
    assert run("не знаю").intents == {Intent.DONT_KNOW}


@pytest.mark.parametrize("text, faq", [
    ("а сколько это стоит", ["price"]), ("вы робот", ["robot"]), ("где у вас парковка", ["parking"]),
    ("а какой адрес", ["address"]), ("сколько стоит и где вы находитесь", ["price", "address"]),
    ("а можно картой", ["payment"]), ("какие документы взять", ["documents"]),
    ("сколька стоит", ["price"]),
])
def test_faq(run, text, faq):
    assert run(text).faq == faq


@pytest.mark.parametrize("text, intent", [
    ("был у невролога", Intent.YES), ("врач направил", Intent.YES), ("нет к врачу не ходил", Intent.NO),
])
def test_visited_doctor(run, text, intent):
    got = run(text, "visited_doctor", state=State.ASK_VISITED_DOCTOR)
    assert intent in got.intents and ({Intent.YES, Intent.NO} - {intent}).isdisjoint(got.intents)


# -- robustness --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "😀🔥👍", "hello world", "a" * 10_000, "мрт " * 3000, "1" * 500,
                                  "в 99:99", "тридцать второго декабря", "\x00\x01", "!!!???", "ёёё ЁЁЁ",
                                  "восемь " * 40, "не не не не", "плюс"])
def test_never_raises(run, text):
    got = run(text, "client_name", "phone", "age", "weight")
    assert isinstance(got, Extraction) and got.source == "rules"


def test_empty_means_empty(run):
    assert run("").is_empty() and run("😀").is_empty()
