"""Russian words for numbers, letters and Latin words: the vocabulary of :mod:`speech.normalize`.

``num2words`` spells numbers in all six cases and three genders, ``pymorphy3`` agrees the noun
after a number ("2 минуты", "5 рублей"); what is left here is ours: how people read letters
("МРТ" -> "эм эр тэ"), Latin words in clinic texts, and phone groups ("05" -> "ноль пять").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from num2words import num2words

Case = Literal["nomn", "gent", "datv", "accs", "ablt", "loct"]
Gender = Literal["m", "f", "n"]

N2W_CASE = {
    "nomn": "nominative",
    "gent": "genitive",
    "datv": "dative",
    "accs": "accusative",
    "ablt": "instrumental",
    "loct": "prepositional",
}

# Russian names of letters, for abbreviations said letter by letter (МРТ -> "эм эр тэ").
_LETTER_NAMES = {
    "А": "а", "Б": "бэ", "В": "вэ", "Г": "гэ", "Д": "дэ", "Е": "е", "Ё": "ё", "Ж": "жэ", "З": "зэ",
    "И": "и", "Й": "и краткое", "К": "ка", "Л": "эль", "М": "эм", "Н": "эн", "О": "о", "П": "пэ",
    "Р": "эр", "С": "эс", "Т": "тэ", "У": "у", "Ф": "эф", "Х": "ха", "Ц": "цэ", "Ч": "чэ", "Ш": "ша",
    "Щ": "ща", "Ъ": "твёрдый знак", "Ы": "ы", "Ь": "мягкий знак", "Э": "э", "Ю": "ю", "Я": "я",
}
_LATIN_LETTER_NAMES = {
    "A": "эй", "B": "би", "C": "си", "D": "ди", "E": "и", "F": "эф", "G": "джи", "H": "эйч", "I": "ай",
    "J": "джей", "K": "кей", "L": "эль", "M": "эм", "N": "эн", "O": "оу", "P": "пи", "Q": "кью",
    "R": "ар", "S": "эс", "T": "ти", "U": "ю", "V": "ви", "W": "дабл ю", "X": "икс", "Y": "уай", "Z": "зед",
}
# Latin words that appear in clinic texts (sites, e-mails) with their usual Russian reading.
_LATIN_WORDS = {
    "www": "вэ вэ вэ", "info": "инфо", "plus": "плюс", "example": "экзампл", "com": "ком", "ru": "ру",
    "org": "орг", "net": "нэт", "mail": "мэйл", "gmail": "джимэйл", "yandex": "яндекс", "med": "мед",
    "scan": "скан", "medscan": "медскан", "clinic": "клиник", "http": "эйч ти ти пи", "https": "эйч ти ти пи эс",
}
_LATIN_TRANSLIT = [
    ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ya", "я"), ("yu", "ю"),
    ("yo", "ё"), ("ph", "ф"), ("th", "т"), ("ck", "к"), ("qu", "кв"), ("ee", "и"), ("oo", "у"),
    ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"),
    ("i", "и"), ("j", "дж"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
    ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"),
    ("y", "й"), ("z", "з"),
]

@lru_cache(maxsize=1)
def morph_analyzer():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def cardinal(n: int, case: Case = "nomn", gender: Gender = "m") -> str:
    """Spell an integer in a case and gender; "тысяча", not "одна тысяча", as people say it."""
    text = num2words(n, lang="ru", case=N2W_CASE[case], gender=gender, animate=False)
    if 1000 <= n < 2000:
        text = re.sub(r"^одн(?:а|ой|у|ою) (тысяч\w*)", r"\1", text)
    return text


def ordinal(n: int, case: Case = "nomn", gender: Gender = "m", plural: bool = False) -> str:
    return num2words(n, lang="ru", to="ordinal", case=N2W_CASE[case], gender=gender, plural=plural,
                     animate=False)


def agree(lemma: str, n: int, case: Case = "nomn") -> str:
    """The noun form after the number ``n`` in ``case``: (рубль, 5) -> "рублей"."""
    parse = morph_analyzer().parse(lemma)[0]
    inflected = parse.inflect({case}) or parse
    agreed = inflected.make_agree_with_number(n) or inflected
    word = agreed.word
    # pymorphy3 gives the short genitive plural "килограмм"; speech says "килограммов".
    if word.endswith("грамм") and agreed.tag.number == "plur" and agreed.tag.case == "gent":
        word += "ов"
    return word


def noun_gender(word: str) -> Gender:
    """Grammatical gender of the noun after a number ("2 минуты" -> f), masculine if unsure."""
    for parse in morph_analyzer().parse(word.lower()):
        if "NOUN" in parse.tag:
            gender = parse.tag.gender
            return {"femn": "f", "neut": "n"}.get(gender or "", "m")  # type: ignore[return-value]
    return "m"


def spell_letters(word: str) -> str:
    """МРТ -> "эм эр тэ"; QR -> "кью ар"."""
    names = [_LETTER_NAMES.get(ch) or _LATIN_LETTER_NAMES.get(ch.upper(), ch) for ch in word]
    return " ".join(names)


def transliterate(word: str) -> str:
    """A Latin word in Cyrillic, known words first ("plus" -> "плюс"), else letter rules."""
    lower = word.lower()
    if lower in _LATIN_WORDS:
        return _LATIN_WORDS[lower]
    out, i = [], 0
    while i < len(lower):
        for latin, cyr in _LATIN_TRANSLIT:
            if lower.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            out.append(lower[i] if lower[i] not in "'-" else " ")
            i += 1
    return "".join(out)


def _digits_group(group: str) -> str:
    """A phone group as people read it: "916" -> "девятьсот шестнадцать", "05" -> "ноль пять"."""
    if group == "0" * len(group):
        return " ".join(["ноль"] * len(group))
    if group.startswith("0"):
        return "ноль " + _digits_group(group[1:]) if len(group) > 1 else "ноль"
    return cardinal(int(group))


def speak_phone(groups: list[str], plus: bool) -> str:
    words = [_digits_group(g) for g in groups]
    head = ("плюс " if plus else "") + words[0]
    return ", ".join([head, *words[1:]])
