"""Grounding: an LLM reply may only state facts that the clinic profile or the slots hold.

:func:`check_grounded` lists every number, price, time, phone and study in a text that the
profile and the call's slots (and, optionally, the template reply being rephrased) do not
contain. It is deliberately strict and deterministic: number words are turned into digits the
same way on both sides (words2num2), so "четыре тысячи девятьсот рублей" is checked as 4900, and a
study is "МРТ"/"КТ"/"УЗИ" followed by a body part the profile knows, which must exist as a
study (``find_study``). A non-empty result means: use the template, log the event.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract.numbers import words_to_digits

if TYPE_CHECKING:  # types only: the LLM package does not import the dialog engine's state
    from salesagent.dialog.slots import DialogSlots

# Small numbers occur in ordinary speech ("в двух словах", "один момент") and state no fact.
FREE_NUMBERS = frozenset({0, 1, 2})
# Studies other clinics offer: naming one that is not in the profile is a hallucinated service.
OTHER_STUDIES = ("рентген", "пэт", "маммограф", "флюорограф", "денситометр", "колоноскоп", "гастроскоп",
                 "эндоскоп", "экг", "ээг", "эхокг", "сцинтиграф", "ангиограф")

_PHONE = re.compile(r"(?:\+\s*7|(?<!\d)8)[\s\-()]*(\d{3})[\s\-()]*(\d{3})[\s\-]*(\d{2})[\s\-]*(\d{2})(?!\d)")
_GROUPED = re.compile(r"(?<![\d:])(\d{1,3})(?:[  \u202f](\d{3}))+(?![\d:])")
_PRICE = re.compile(r"(\d+)\s*(?:руб|₽|р\.|р\b)")
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?!\d)")
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[а-яёa-z]+")

# profile id -> (profile, numbers, times, prices, phones); profiles are not hashable
_Ground = tuple[frozenset[int], frozenset[tuple[int, int]], frozenset[int], frozenset[str]]
_GROUND: dict[int, tuple[ClinicProfile, _Ground]] = {}


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def _to_digits(text: str) -> str:
    """Lower case, number words to digits, "4 900" -> "4900" (not inside phones or times)."""
    folded = _fold(text)
    converted = words_to_digits(folded)
    return converted if isinstance(converted, str) else folded


def _join_groups(text: str) -> str:
    return _GROUPED.sub(lambda m: m.group(0).replace(" ", "").replace(" ", "").replace("\u202f", ""), text)


def _phones(text: str) -> tuple[set[str], str]:
    found = {"".join(m.groups()) for m in _PHONE.finditer(text)}
    return found, _PHONE.sub(" ", text)


def _facts_of(text: str) -> tuple[set[int], set[tuple[int, int]], set[str]]:
    """Numbers, times and phones a trusted text states (profile strings, slots, the template)."""
    digits = _to_digits(text)
    phones, rest = _phones(digits)
    times = {(int(h), int(m)) for h, m in _TIME.findall(rest)}
    rest = _join_groups(rest)
    numbers = {int(n) for n in _NUMBER.findall(rest)}
    numbers |= {int(n) for n in _NUMBER.findall(_fold(text))}
    return numbers, times, phones


def _walk(value: Any, strings: list[str], numbers: set[int], times: set[tuple[int, int]]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        numbers.add(value)
    elif isinstance(value, time):
        times.add((value.hour, value.minute))
        numbers.update({value.hour, value.minute})
    elif isinstance(value, str):
        strings.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, strings, numbers, times)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, strings, numbers, times)


def price_family(profile: ClinicProfile, price: int, options: bool = True) -> set[int]:
    """A price as the agent may say it: as is, after any discount, plus the paid options."""
    bases = {price}
    if options:
        video, media = profile.video_conclusion.price, profile.media.price
        bases |= {price + video, price + media, price + video + media}
    family = set(bases)
    for discount in profile.discounts:
        for base in bases:
            discounted = base * (100 - discount.percent) / 100
            family |= {int(discounted), round(discounted), round(discounted / 10) * 10}
    return family


def _profile_ground(profile: ClinicProfile) -> _Ground:
    cached = _GROUND.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    strings: list[str] = []
    numbers: set[int] = set()
    times: set[tuple[int, int]] = set()
    # templates are excluded (their placeholders are filled from the slots), and so are the busy
    # times of the schedule: a free time is only a fact once the engine offers it (the reference)
    _walk(profile.model_dump(exclude={"templates": True, "schedule": {"taken_weekly", "taken"}}),
          strings, numbers, times)
    phones: set[str] = set()
    for text in strings:
        n, t, p = _facts_of(text)
        numbers |= n
        times |= t
        phones |= p
    phones.add(re.sub(r"\D", "", profile.clinic.phone)[-10:])
    prices: set[int] = set()
    for study in profile.studies:
        prices |= price_family(profile, study.price)
    prices |= price_family(profile, profile.video_conclusion.price, options=False)
    prices |= price_family(profile, profile.media.price, options=False)
    numbers |= prices
    ground = (frozenset(numbers), frozenset(times), frozenset(prices), frozenset(phones))
    _GROUND[id(profile)] = (profile, ground)
    return ground


def _slot_facts(slots: DialogSlots | None) -> tuple[set[int], set[tuple[int, int]], set[str], set[int]]:
    numbers: set[int] = set()
    times: set[tuple[int, int]] = set()
    phones: set[str] = set()
    prices: set[int] = set()
    if slots is None:
        return numbers, times, phones, prices
    for value in (slots.age, slots.weight, slots.price):
        if value is not None:
            numbers.add(value)
    if slots.price is not None:
        prices.add(slots.price)
    when: datetime | None = slots.appointment_datetime
    if when is not None:
        numbers |= {when.day, when.month, when.year, when.hour, when.minute}
        times.add((when.hour, when.minute))
    if slots.phone:
        phones.add(slots.phone[-10:])
        digits = slots.phone[2:]
        numbers |= {int(digits[:3]), int(digits[3:6]), int(digits[6:8]), int(digits[8:]), int(digits)}
    for text in (slots.symptoms, slots.symptoms_duration):
        if text:
            n, _, _ = _facts_of(text)
            numbers |= n
    return numbers, times, phones, prices


def _studies(text: str, profile: ClinicProfile) -> tuple[list[str], list[str]]:
    """(violations, offered study ids): study mentions the clinic does not offer ("кт щитовидной
    железы", "рентген") and the ones it does."""
    folded = _fold(text)
    words = _WORD.findall(folded)
    violations: list[str] = []
    offered: list[str] = []
    modality_words = {}
    for key, modality in profile.modalities.items():
        for alias in [modality.name, *modality.aliases]:
            alias_words = _WORD.findall(_fold(alias))
            if len(alias_words) == 1:
                modality_words[alias_words[0]] = key
    known_vocabulary = " ".join(_fold(w) for w in profile.vocabulary())
    for other in OTHER_STUDIES:
        if any(w.startswith(other) for w in words) and other not in known_vocabulary:
            violations.append(f"study not offered: {other}")
    for i, word in enumerate(words):
        modality = modality_words.get(word)
        if modality is None:
            continue
        window = " " + " ".join(words[i + 1 : i + 6]) + " "
        best: tuple[int, str] | None = None
        for part_key, part in profile.body_parts.items():
            for alias in [part.name, *part.aliases]:
                needle = " " + " ".join(_WORD.findall(_fold(alias))) + " "
                pos = window.find(needle)
                if pos >= 0 and (best is None or pos < best[0]):
                    best = (pos, part_key)
        if best is None:
            continue
        study = profile.find_study(modality, best[1])
        if study is None:
            name = f"{profile.modalities[modality].name} {profile.body_parts[best[1]].name}"
            violations.append(f"study not offered: {name}")
        else:
            offered.append(study.id)
    return violations, offered


def check_grounded(text: str, profile: ClinicProfile, slots: DialogSlots | None = None,
                   reference: str = "") -> list[str]:
    """Violations in ``text``: numbers/prices/times/phones/studies found neither in the profile,
    the slots nor ``reference`` (the template reply being rephrased). Empty list: grounded."""
    p_numbers, p_times, p_prices, p_phones = _profile_ground(profile)
    s_numbers, s_times, s_phones, s_prices = _slot_facts(slots)
    r_numbers, r_times, r_phones = _facts_of(reference) if reference else (set(), set(), set())
    numbers = p_numbers | s_numbers | r_numbers | FREE_NUMBERS
    times = p_times | s_times | r_times
    prices = p_prices | s_prices | {n for n in r_numbers if n >= 100}
    phones = p_phones | s_phones | r_phones

    violations: list[str] = []
    digits = _to_digits(text)
    found_phones, rest = _phones(digits)
    violations += [f"phone not in profile or slots: {p}" for p in sorted(found_phones - phones)]
    for h, m in _TIME.findall(rest):
        if (int(h), int(m)) not in times:
            violations.append(f"time not in profile or slots: {int(h):02d}:{m}")
    rest = _TIME.sub(" ", rest)
    rest = _join_groups(rest)
    priced: set[int] = set()
    for value in _PRICE.findall(rest):
        amount = int(value)
        priced.add(amount)
        if amount not in prices:
            violations.append(f"price not in profile: {amount}")
    for value in _NUMBER.findall(rest):
        number = int(value)
        if number not in priced and number not in numbers:
            violations.append(f"number not in profile or slots: {number}")
    study_violations, _ = _studies(text, profile)
    violations += study_violations
    violations += _prices_match_studies(text, profile, s_prices | {n for n in r_numbers if n >= 100})
    return list(dict.fromkeys(violations))


def _prices_match_studies(text: str, profile: ClinicProfile, trusted: set[int]) -> list[str]:
    """In a sentence naming one study, a price must be that study's (a real price of another
    study is still a wrong answer)."""
    violations: list[str] = []
    options = {profile.video_conclusion.price, profile.media.price}
    for sentence in re.split(r"[.!?;\n]+", text):
        _, offered = _studies(sentence, profile)
        if len(set(offered)) != 1:
            continue
        study = profile.study(offered[0])
        allowed = price_family(profile, study.price) | trusted | options
        rest = _join_groups(_TIME.sub(" ", _phones(_to_digits(sentence))[1]))
        for value in _PRICE.findall(rest):
            if int(value) not in allowed:
                violations.append(f"price {int(value)} is not the price of {study.name} ({study.price})")
    return violations
