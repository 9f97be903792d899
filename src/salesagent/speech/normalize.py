"""Russian text normalisation for speech: digits, dates, times, prices, phones, abbreviations.

A TTS voice reads letters, not "4500 руб." or "28.11 в 10:00". Everything the agent says goes
through :func:`normalize` first, so a reply from the clinic profile reaches the synthesiser as
plain Russian words in the right grammatical case.

The heavy lifting is done by maintained libraries: ``num2words`` spells numbers in all six
cases and three genders, ``pymorphy3`` agrees the noun after a number ("2 минуты", "5 рублей")
and tells the gender of that noun. This module is the glue: it finds the patterns the dialog
writes (see ``dialog.russian``: "4500 рублей", "в пятницу, 27 ноября", "10:30",
"+7 916 123-45-67", "130 килограммов", "10%") and picks the case from the preposition before
them ("на 28 ноября" -> accusative, "до 22 часов" -> genitive, "к 10:00" -> dative).

Why not ru-normalizr or rutextnorm alone: both were measured (docs/speech-tts.md) and each
fails on forms the dialog writes ("28.11" read as a decimal, "10:00" as "десять ноль ноль",
case agreement after "на"/"к"). The rules here are few and tested on every profile template.
"""

from __future__ import annotations

import re

from salesagent.speech.russian_words import (
    N2W_CASE,
    Case,
    Gender,
    agree,
    cardinal,
    morph_analyzer,
    noun_gender,
    ordinal,
    speak_phone,
    spell_letters,
    transliterate,
)

# The case a preposition governs when a number follows it (the clinic's usage: "с 9 до 20 часов",
# "к 10:00", "на 28 ноября", "о 2 исследованиях"). "с" + number is almost always "from" here.
_PREP_CASE: dict[str, Case] = {
    "с": "gent", "со": "gent", "до": "gent", "от": "gent", "после": "gent", "около": "gent",
    "из": "gent", "без": "gent", "для": "gent", "у": "gent", "более": "gent", "менее": "gent",
    "свыше": "gent", "больше": "gent", "меньше": "gent", "кроме": "gent", "в течение": "gent",
    "к": "datv", "ко": "datv",
    "на": "accs", "за": "accs", "через": "accs", "про": "accs", "в": "accs", "во": "accs",
    "по": "accs",
    "о": "loct", "об": "loct", "при": "loct",
    "стоит": "accs", "стоят": "accs", "составит": "accs", "составляет": "accs", "составляют": "accs",
    "между": "ablt", "над": "ablt", "под": "ablt", "перед": "ablt",
}

MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
_MONTH_RE = "|".join(MONTHS_GEN)

# Capitalised words that are read as words, not spelled out.
_ACRONYMS_AS_WORDS = {"ВУЗ", "ГОСТ", "МИД", "МХАТ", "ЗАГС", "ОМС", "СНИЛС", "ВИЧ"}
_ACRONYMS_SPOKEN = {"ОМС": "о эм эс", "СНИЛС": "снилс", "ВИЧ": "вич"}

# Abbreviations with a dot, expanded before numbers are read ("д. 12" -> "дом 12").
_DOTTED = [
    (r"\bт\.\s?е\.", "то есть"), (r"\bт\.\s?д\.", "так далее"), (r"\bт\.\s?п\.", "тому подобное"),
    (r"\bт\.\s?к\.", "так как"), (r"\bул\.", "улица"), (r"\bпр-т\b\.?", "проспект"), (r"\bпр-кт\b\.?", "проспект"),
    (r"\bпер\.", "переулок"), (r"\bбул\.", "бульвар"), (r"\bш\.(?=\s*[А-ЯЁ])", "шоссе"), (r"\bд\.(?=\s*\d)", "дом"),
    (r"\bкорп\.(?=\s*\d)", "корпус"), (r"\bк\.(?=\s*\d)", "корпус"), (r"\bстр\.(?=\s*\d)", "строение"),
    (r"\bкв\.(?=\s*\d)", "квартира"), (r"\bэт\.(?=\s*\d)", "этаж"), (r"\bоф\.(?=\s*\d)", "офис"),
    (r"\bкаб\.(?=\s*\d)", "кабинет"), (r"\bм\.(?=\s*[«\"]?[А-ЯЁ])", "метро"), (r"\bг\.(?=\s*[А-ЯЁ])", "город"),
    (r"\bпл\.(?=\s*[А-ЯЁ])", "площадь"), (r"\bпос\.(?=\s*[А-ЯЁ])", "посёлок"),
    (r"\bмкр\.?(?=\s*[А-ЯЁ\d])", "микрорайон"),
    (r"\bдр\.(?=\s*$|\s*[.,;!?])", "другие"), (r"\bпн\b\.?", "понедельник"), (r"\bвт\b\.?", "вторник"),
    (r"\bср\b\.?(?=\s*[-–—,]|\s*$)", "среда"), (r"\bчт\b\.?", "четверг"), (r"\bпт\b\.?", "пятница"),
    (r"\bсб\b\.?", "суббота"), (r"\bвс\b\.?(?=\s*[-–—,:]|\s*$)", "воскресенье"), (r"\bтел\.", "телефон"),
    (r"\bдол\.", "долларов"), (r"\bтыс\.", "тысяч"), (r"\bмлн\.?", "миллионов"), (r"\bмлрд\.?", "миллиардов"),
    (r"№\s?", "номер "), (r"§", "параграф "),
]

# Units after a number: spoken lemma (agreed with the number by pymorphy3).
_UNITS = {
    "руб": "рубль", "р": "рубль", "₽": "рубль", "rub": "рубль", "коп": "копейка", "$": "доллар", "€": "евро",
    "кг": "килограмм", "г": "грамм", "мг": "миллиграмм", "см": "сантиметр", "мм": "миллиметр",
    "км": "километр", "м": "метр", "мл": "миллилитр", "л": "литр", "ч": "час", "мин": "минута",
    "сек": "секунда", "%": "процент", "тыс": "тысяча",
}

_SPACE = "[ \u00a0\u202f]"
_PHONE_RE = re.compile(
    r"(?<![\d\w])(?P<cc>\+7|8)[ \u00a0-]?\(?(?P<a>\d{3})\)?[ \u00a0-]?(?P<b>\d{3})[ \u00a0-]?(?P<c>\d{2})"
    r"[ \u00a0-]?(?P<d>\d{2})(?!\d)"
)
_PHONE_INTL_RE = re.compile(r"(?<![\d\w])\+(?P<digits>\d{10,15})(?!\d)")
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_DOMAIN_RE = re.compile(r"\b(?:https?://)?(?:[a-z0-9-]+\.)+(?:ru|com|org|net|рф|example|info|su|io|moscow)\b/?",
                        re.IGNORECASE)
_DATE_NUM_RE = re.compile(r"(?<![\d.,:])(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)(?:\.(?P<y>\d{4}|\d{2}))?(?![\d,:]|\.\d)")
_DATE_WORD_RE = re.compile(rf"(?<![\d.,:])(?P<d>[0-3]?\d){_SPACE}+(?P<month>{_MONTH_RE})\b(?P<year>{_SPACE}+\d{{4}})?",
                           re.IGNORECASE)
_YEAR_RE = re.compile(rf"\b(?P<y>\d{{4}}){_SPACE}*(?P<word>года|году|год|г\.)(?!\w)")
_TIME_RE = re.compile(r"(?<![\d.,:])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])")
_ORDINAL_RE = re.compile(
    r"(?<![\d.,])(?P<n>\d+)-?(?P<suf>ый|ий|ой|ая|яя|ое|ее|ые|ие|ого|его|ому|ему|ым|им|ом|ем|ых|их|ую|юю|"
    r"й|я|е|го|му|м|х|ю)(?![а-яё])"
)
_RANGE_RE = re.compile(r"(?<![\d.,:])(\d+)\s?[-–—]\s?(\d+)(?![\d.,:])")
_NUMBER_RE = re.compile(r"(?<![\d\w])(?P<int>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,(?P<frac>\d+))?(?![\d])")
_UNIT_AFTER_RE = re.compile(
    r"^[ \u00a0\u202f]?(?P<unit>руб|р|₽|rub|коп|кг|мг|г|см|мм|км|мл|м|л|ч|мин|сек|%|\$|€|тыс)(?![а-яёa-z])\.?",
    re.IGNORECASE,
)
_ABBR_RE = re.compile(r"(?<![А-ЯЁа-яё])(?P<w>[А-ЯЁ]{2,6})(?![а-яё])(?:-(?=[а-яё]))?")
_LATIN_CAPS_RE = re.compile(r"(?<![A-Za-z])(?P<w>[A-Z]{2,5})(?![a-z])(?:-(?=[а-яёa-z]))?")
_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]*")
_FINAL_ABBR_DOT = re.compile(
    r"(?<![а-яё])(?P<abbr>руб|р|коп|мин|сек|тыс|кг|мг|см|мм|км|мл|ч|др|д|п|е)\.(?=\s*$|\s+[А-ЯЁ])"
)
_QUOTES_RE = re.compile(r"[«»“”„\"‘’‚‹›]")
_DASH_RE = re.compile(r"\s[–—-]\s")




class RussianNormalizer:
    """Turns a reply into words a Russian TTS voice reads right. Stateless and thread-safe."""

    def __call__(self, text: str) -> str:
        return self.normalize(text)

    def normalize(self, text: str) -> str:
        text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("…", ".")
        text = _QUOTES_RE.sub("", text)
        text = _EMAIL_RE.sub(self._email, text)
        text = _DOMAIN_RE.sub(self._domain, text)
        text = _PHONE_RE.sub(self._phone_ru, text)
        text = _PHONE_INTL_RE.sub(self._phone_intl, text)
        # "4500 руб. Записать?": the abbreviation's dot also ends the sentence; keep one for the splitter.
        text = _FINAL_ABBR_DOT.sub(r"\g<abbr>..", text)
        for pattern, repl in _DOTTED:
            text = re.sub(pattern, repl, text)
        text = _DATE_WORD_RE.sub(self._date_word, text)
        text = _DATE_NUM_RE.sub(self._date_num, text)
        text = _YEAR_RE.sub(self._year, text)
        text = _TIME_RE.sub(self._time, text)
        text = _ORDINAL_RE.sub(self._ordinal, text)
        text = _RANGE_RE.sub(self._range, text)
        text = self._numbers(text)
        text = self._units_without_number(text)
        text = _ABBR_RE.sub(self._abbreviation, text)
        text = _LATIN_CAPS_RE.sub(lambda m: spell_letters(m["w"]) + (" " if m.group(0).endswith("-") else ""), text)
        text = _LATIN_WORD_RE.sub(lambda m: transliterate(m.group(0)), text)
        text = text.replace("&", " и ").replace("+", " плюс ").replace("=", " равно ")
        text = re.sub(r"[/\\|_*#~^<>{}\[\]]", " ", text)
        text = _DASH_RE.sub(", ", text)
        text = re.sub(r"(?<=[а-яё])-(?=[а-яё]{1,2}\b)", "-", text)
        text = re.sub(r"\s+([,.!?;:])", r"\1", text)
        text = re.sub(r"([,;:])(?=[^\s\d])", r"\1 ", text)
        text = re.sub(r",\s*,", ",", text)
        text = re.sub(r"\.{2,}", ".", text)
        return re.sub(r"\s{2,}", " ", text).strip()

    # -- context ---------------------------------------------------------------------------------
    @staticmethod
    def _case_before(text: str, start: int, default: Case = "nomn") -> Case:
        """The case a preposition right before position ``start`` governs."""
        before = text[max(0, start - 20):start].lower()
        match = re.search(r"(?:^|[^а-яё])(в течение|[а-яё]+)[ \u00a0]*$", before)
        if match and match.group(1) in _PREP_CASE:
            return _PREP_CASE[match.group(1)]
        return default

    @staticmethod
    def _noun_case(word: str) -> Case:
        """After 1, 21, 31... the noun takes the number's case: "1 минуту" -> accusative."""
        for parse in morph_analyzer().parse(word.lower()):
            if "NOUN" in parse.tag and parse.tag.case in N2W_CASE:
                return parse.tag.case  # type: ignore[return-value]
        return "nomn"

    @staticmethod
    def _next_word(text: str, end: int) -> str:
        match = re.match(r"[ \u00a0]*([А-Яа-яЁё]+)", text[end:])
        return match.group(1) if match else ""

    # -- patterns --------------------------------------------------------------------------------
    def _email(self, m: re.Match[str]) -> str:
        local, domain = m.group(0).split("@", 1)
        local_spoken = " точка ".join(transliterate(p) for p in re.split(r"[.]", local) if p)
        return f"{local_spoken} собака {self._domain_text(domain)}"

    def _domain(self, m: re.Match[str]) -> str:
        return self._domain_text(re.sub(r"^https?://|/$", "", m.group(0)))

    @staticmethod
    def _domain_text(domain: str) -> str:
        parts = []
        for part in domain.split("."):
            words = [w for w in part.split("-") if w]
            parts.append(" ".join(transliterate(w) if re.match("[A-Za-z]", w) else w for w in words))
        return " точка ".join(parts)

    def _phone_ru(self, m: re.Match[str]) -> str:
        cc = m["cc"]
        return speak_phone([cc.lstrip("+"), m["a"], m["b"], m["c"], m["d"]], plus=cc.startswith("+"))

    def _phone_intl(self, m: re.Match[str]) -> str:
        digits = m["digits"]
        if len(digits) == 11 and digits[0] == "7":
            groups = [digits[0], digits[1:4], digits[4:7], digits[7:9], digits[9:]]
        else:
            groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
        return speak_phone(groups, plus=True)

    def _date_phrase(self, text: str, start: int, day: int, month: int, year: str | None) -> str | None:
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return None
        case = self._case_before(text, start, default="gent")
        if case not in ("accs", "datv", "gent", "loct", "ablt"):
            case = "gent"
        spoken = f"{ordinal(day, case, 'n')} {MONTHS_GEN[month - 1]}"
        if year:
            y = int(year) + (2000 if len(year) == 2 else 0)
            spoken += f" {ordinal(y, 'gent', 'm')} года"
        return spoken

    def _date_num(self, m: re.Match[str]) -> str:
        spoken = self._date_phrase(m.string, m.start(), int(m["d"]), int(m["m"]), m["y"])
        return spoken if spoken is not None else m.group(0)

    def _date_word(self, m: re.Match[str]) -> str:
        month = MONTHS_GEN.index(m["month"].lower()) + 1
        year = m["year"].strip() if m["year"] else None
        spoken = self._date_phrase(m.string, m.start(), int(m["d"]), month, year)
        if spoken is None:
            return m.group(0)
        after = m.string[m.end():m.end() + 6]
        if year and re.match(r"[ \u00a0]*(?:года|г\.)", after):
            spoken = spoken[: -len(" года")]
        return spoken

    def _year(self, m: re.Match[str]) -> str:
        y, word = int(m["y"]), m["word"]
        if word in ("году",):
            return f"{ordinal(y, 'loct', 'm')} году"
        if word == "год":
            return f"{ordinal(y, self._case_before(m.string, m.start(), 'nomn'), 'm')} год"
        return f"{ordinal(y, 'gent', 'm')} года"

    def _time(self, m: re.Match[str]) -> str:
        hours, minutes = int(m["h"]), int(m["m"])
        case = self._case_before(m.string, m.start(), default="nomn")
        if case == "accs":
            case = "nomn"
        next_word = self._next_word(m.string, m.end()).lower()
        if minutes == 0:
            if next_word.startswith("час"):
                return cardinal(hours, case)
            if hours == 1 and case == "nomn":
                return "час"
            return f"{cardinal(hours, case)} {agree('час', hours, case)}"
        if minutes < 10:
            return f"{cardinal(hours, case)} ноль {cardinal(minutes, case, 'f')}"
        return f"{cardinal(hours, case)} {cardinal(minutes, case, 'f')}"

    def _ordinal(self, m: re.Match[str]) -> str:
        n, suf = int(m["n"]), m["suf"]
        table: dict[str, tuple[Case, Gender, bool]] = {
            "ый": ("nomn", "m", False), "ий": ("nomn", "m", False), "ой": ("nomn", "m", False),
            "й": ("nomn", "m", False), "ая": ("nomn", "f", False), "яя": ("nomn", "f", False),
            "я": ("nomn", "f", False), "ое": ("nomn", "n", False), "ее": ("nomn", "n", False),
            "е": ("nomn", "n", False), "ые": ("nomn", "m", True), "ие": ("nomn", "m", True),
            "ого": ("gent", "m", False), "его": ("gent", "m", False), "го": ("gent", "m", False),
            "ому": ("datv", "m", False), "ему": ("datv", "m", False), "му": ("datv", "m", False),
            "ым": ("ablt", "m", False), "им": ("ablt", "m", False), "ом": ("loct", "m", False),
            "ем": ("loct", "m", False), "м": ("loct", "m", False), "ых": ("gent", "m", True),
            "их": ("gent", "m", True), "х": ("gent", "m", True), "ую": ("accs", "f", False),
            "юю": ("accs", "f", False), "ю": ("accs", "f", False),
        }
        case, gender, plural = table[suf]
        if suf in ("ой",) and self._next_word(m.string, m.end()):
            nxt = self._next_word(m.string, m.end())
            if noun_gender(nxt) == "f":
                case, gender = "gent", "f"
        if suf == "е" and self._case_before(m.string, m.start()) == "loct":
            case, gender = "loct", "m"
        return ordinal(n, case, gender, plural)

    def _range(self, m: re.Match[str]) -> str:
        a, b = int(m.group(1)), int(m.group(2))
        if a >= b or len(m.group(1)) > 4:
            return m.group(0)
        return f"{m.group(1)} или {m.group(2)}"

    def _numbers(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _NUMBER_RE.finditer(text):
            out.append(text[pos:m.start()])
            pos = m.end()
            integer = int(re.sub(r"\D", "", m["int"]))
            case = self._case_before(text, m.start())
            unit_match = _UNIT_AFTER_RE.match(text[m.end():])
            if m["frac"]:
                whole = cardinal(integer, case, "f")
                frac = m["frac"]
                denom = {1: "десятых", 2: "сотых", 3: "тысячных"}.get(len(frac))
                if denom is None:
                    spoken = f"{whole} запятая " + " ".join(cardinal(int(ch)) for ch in frac)
                else:
                    fnum = int(frac)
                    fword = denom
                    intpart = "целая" if integer % 10 == 1 and integer % 100 != 11 else "целых"
                    spoken = f"{whole} {intpart} {cardinal(fnum, case, 'f')} {fword}"
                if unit_match:
                    lemma = _UNITS[unit_match["unit"].lower()]
                    parse = morph_analyzer().parse(lemma)[0]
                    form = parse.inflect({"gent", "sing"}) or parse
                    spoken += " " + form.word
                    pos = m.end() + unit_match.end()
                out.append(spoken)
                continue
            if unit_match:
                lemma = _UNITS[unit_match["unit"].lower()]
                gender = noun_gender(lemma)
                out.append(f"{cardinal(integer, case, gender)} {agree(lemma, integer, case)}")
                pos = m.end() + unit_match.end()
                continue
            next_word = self._next_word(text, m.end())
            gender = noun_gender(next_word) if next_word else "m"
            if case == "nomn" and next_word and integer % 10 == 1 and integer % 100 != 11:
                case = self._noun_case(next_word)
            out.append(cardinal(integer, case, gender))
        out.append(text[pos:])
        return "".join(out)

    @staticmethod
    def _units_without_number(text: str) -> str:
        text = re.sub(r"(?<=[а-яё])\s*%", " процентов", text)
        return text.replace("%", " процентов").replace("₽", " рублей")

    @staticmethod
    def _abbreviation(m: re.Match[str]) -> str:
        word = m["w"]
        tail = " " if m.group(0).endswith("-") else ""
        if word in _ACRONYMS_SPOKEN:
            return _ACRONYMS_SPOKEN[word] + tail
        if word in _ACRONYMS_AS_WORDS:
            return word.lower() + tail
        return spell_letters(word) + tail


_DEFAULT = RussianNormalizer()


def normalize(text: str) -> str:
    """Normalise ``text`` for a Russian TTS voice (see :class:`RussianNormalizer`)."""
    return _DEFAULT.normalize(text)
