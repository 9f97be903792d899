"""Normalisation for speech: the forms the dialog writes must come out as Russian words."""

from __future__ import annotations

import re
import string
from datetime import date, datetime

import pytest

from salesagent.speech.normalize import normalize

CASES = [
    # prices
    ("4500 руб.", "четыре тысячи пятьсот рублей."),
    ("Это 4500 руб. Записать?", "Это четыре тысячи пятьсот рублей. Записать?"),
    ("анализы и т.д. Далее", "анализы и так далее. Далее"),
    ("4500 рублей", "четыре тысячи пятьсот рублей"),
    ("4500 р.", "четыре тысячи пятьсот рублей."),
    ("4500 ₽", "четыре тысячи пятьсот рублей"),
    ("1000 рублей", "тысяча рублей"),
    ("21 рубль", "двадцать один рубль"),
    ("1602 рубля", "тысяча шестьсот два рубля"),
    ("МРТ от 4500 рублей", "эм эр тэ от четырёх тысяч пятисот рублей"),
    ("Это стоит 300 рублей.", "Это стоит триста рублей."),
    ("Это стоит 1000 рублей.", "Это стоит тысячу рублей."),
    ("4 500 руб.", "четыре тысячи пятьсот рублей."),
    ("2 мин. Далее", "две минуты. Далее"),
    ("5 коп.", "пять копеек."),
    # dates and times with case agreement
    ("28.11 в 10:00", "двадцать восьмого ноября в десять часов"),
    ("на 28 ноября", "на двадцать восьмое ноября"),
    ("на 28.11", "на двадцать восьмое ноября"),
    ("в пятницу, 27 ноября, в 10:30", "в пятницу, двадцать седьмого ноября, в десять тридцать"),
    ("завтра, 26 ноября", "завтра, двадцать шестого ноября"),
    ("к 1 декабря", "к первому декабря"),
    ("до 3 декабря", "до третьего декабря"),
    ("28.11.2026", "двадцать восьмого ноября две тысячи двадцать шестого года"),
    ("в 2026 году", "в две тысячи двадцать шестом году"),
    ("к 10:00", "к десяти часам"),
    ("с 10:30 до 11:00", "с десяти тридцати до одиннадцати часов"),
    ("в 9:05", "в девять ноль пять"),
    ("в 21:00", "в двадцать один час"),
    ("в 13:00", "в тринадцать часов"),
    ("в 12:45", "в двенадцать сорок пять"),
    ("Свободно 10:00, 10:30 и 11:00.", "Свободно десять часов, десять тридцать и одиннадцать часов."),
    ("с 8 утра до 22 часов", "с восьми утра до двадцати двух часов"),
    ("с 9 до 20 часов", "с девяти до двадцати часов"),
    # phones, read in groups
    ("+7 916 123-45-67", "плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь"),
    ("+79161234567", "плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь"),
    ("8 (916) 123-45-67", "восемь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь"),
    ("89161234567", "восемь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь"),
    ("+7 495 100-05-00", "плюс семь, четыреста девяносто пять, сто, ноль пять, ноль ноль"),
    ("+7 999 012-34-56", "плюс семь, девятьсот девяносто девять, ноль двенадцать, тридцать четыре, пятьдесят шесть"),
    # abbreviations said as letters
    ("МРТ", "эм эр тэ"),
    ("КТ", "ка тэ"),
    ("УЗИ", "у зэ и"),
    ("полис ДМС", "полис дэ эм эс"),
    ("МРТ-исследование", "эм эр тэ исследование"),
    ("по QR-коду", "по кью ар коду"),
    # ordinals
    ("1-й этаж", "первый этаж"),
    ("на 2-м этаже", "на втором этаже"),
    ("3-я поликлиника", "третья поликлиника"),
    ("5-го числа", "пятого числа"),
    # units, percent, quotes, addresses
    ("130 кг", "сто тридцать килограммов"),
    ("130 килограммов", "сто тридцать килограммов"),
    ("до 130 кг", "до ста тридцати килограммов"),
    ("3,5 кг", "три целых пять десятых килограмма"),
    ("скидка 10%", "скидка десять процентов"),
    ("на 5% дешевле", "на пять процентов дешевле"),
    ("около 30 минут", "около тридцати минут"),
    ("30 минут", "тридцать минут"),
    ("1 минуту", "одну минуту"),
    ("2 минуты", "две минуты"),
    ("за 2 недели", "за две недели"),
    ("Центр «МедСкан Плюс»", "Центр МедСкан Плюс"),
    ("дом 12, строение 3", "дом двенадцать, строение три"),
    ("ул. Лесная, д. 12, стр. 3", "улица Лесная, дом двенадцать, строение три"),
    ("м. Белорусская", "метро Белорусская"),
    ("2-3 дня", "два или три дня"),
    ("т.е. завтра", "то есть завтра"),
    ("кабинет № 5", "кабинет номер пять"),
    ("сайт medscan-plus.example", "сайт медскан плюс точка экзампл"),
    ("info@medscan-plus.example", "инфо собака медскан плюс точка экзампл"),
    # text without anything to expand stays as it is
    ("Здравствуйте! Чем могу помочь?", "Здравствуйте! Чем могу помочь?"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_normalize_case(text: str, expected: str) -> None:
    assert normalize(text) == expected


FORBIDDEN = re.compile(r"[0-9A-Za-z%№+«»\"₽]")


def _representative_values(profile) -> dict[str, str]:
    """Every placeholder a template may use, with a value in the form the dialog renders it."""
    from salesagent.dialog import russian
    from salesagent.dialog.replies import Renderer

    today = date(2026, 11, 25)
    when = datetime(2026, 11, 27, 10, 30)
    values = dict(Renderer(profile).clinic_values())
    values.update({
        "client_name": "Мария",
        "name_prefix": "Мария, ",
        "study": "МРТ коленного сустава",
        "price": russian.price(4500),
        "duration": russian.minutes(30),
        "phone_spoken": russian.phone("+79161234567"),
        "price_answer": "Стоимость зависит от исследования: МРТ от 4500 рублей, КТ от 3200 рублей и УЗИ от 1600 рублей.",
        "preparation_answer": "Для исследования «МРТ органов брюшной полости»: исследование проводится натощак.",
        "duration_answer": "Исследование длится около 30 минут.",
        "appointment": russian.appointment(when, today),
        "date_phrase": russian.date_phrase(when.date(), today),
        "free_times": "10:00, 10:30 и 11:00",
        "summary": "МРТ коленного сустава, " + russian.appointment(when, today)
        + ", на имя Мария, телефон +7 916 123-45-67, стоимость 5500 рублей",
        "farewell": "Спасибо, Мария! Вы записаны " + russian.appointment(when, today) + ".",
        "discount_name": "скидка пенсионерам",
        "limit": "130",
        "screening_list": Renderer(profile).screening_list("mri"),
        "not_offered": "маммографию и рентген",
    })
    return values


def _all_templates(profile) -> list[tuple[str, str]]:
    t = profile.templates
    out = [(f"states.{k}[{i}]", v) for k, vs in t.states.items() for i, v in enumerate(vs)]
    for k, raw in t.phrases.items():
        out += [(f"phrases.{k}", v) for v in ([raw] if isinstance(raw, str) else raw)]
    out += [(f"faq.{f.id}", f.answer) for f in profile.faq]
    return out


def test_every_profile_template_normalises_to_words(profile) -> None:
    values = _representative_values(profile)
    checked = 0
    for where, template in _all_templates(profile):
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        missing = fields - values.keys()
        assert not missing, f"{where}: no representative value for {missing}; add one to this test"
        spoken = normalize(template.format_map(values))
        assert not FORBIDDEN.search(spoken), f"{where}: {spoken!r}"
        checked += 1
    assert checked >= 60


def test_templates_read_dates_times_prices_phones_right(profile) -> None:
    values = _representative_values(profile)
    confirm = normalize(profile.templates.states["CONFIRM_TIME"][0].format_map(values))
    assert "послезавтра, двадцать седьмого ноября, в десять тридцать" in confirm
    price = normalize(profile.templates.states["ANNOUNCE_PRICE"][0].format_map(values))
    assert "эм эр тэ коленного сустава стоит четыре тысячи пятьсот рублей" in price
    assert "около тридцати минут" in price
    readback = normalize(profile.templates.phrases["phone_readback"].format_map(values))
    assert "плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь" in readback
    overweight = normalize(profile.templates.phrases["overweight_alternative"].format_map(values))
    assert "сто тридцать килограммов" in overweight
    address = normalize(profile.templates.states["PROVIDE_ADDRESS"][0].format_map(values))
    assert "дом двенадцать, строение три" in address
    discounts = normalize(profile.templates.states["CHECK_DISCOUNTS"][0].format_map(values))
    assert "десять процентов" in discounts and "пять процентов" in discounts
    hours = normalize(values["working_hours_text"])
    assert "с восьми утра до двадцати двух часов" in hours


def test_normalize_is_idempotent_on_its_output(profile) -> None:
    values = _representative_values(profile)
    for _, template in _all_templates(profile):
        once = normalize(template.format_map(values))
        assert normalize(once) == once
