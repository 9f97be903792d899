"""Requested appointment day and time, resolved against ``now`` in the clinic's zone.

Only forward-looking phrases are dates: "в пятницу", "завтра", "двенадцатого декабря", "через
неделю". A number with a unit ("две недели", "два года") is a duration or an age, never a date,
and "с понедельника" is when a complaint began. An hour without "утра/дня/вечера" is read inside
the clinic's opening hours from the profile: with hours 8-22, "в три" is 15:00 and "в десять" is
10:00. A mention after "не" is what a correction rules out ("не в пятницу, а в субботу").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract import lexicon
from salesagent.dialog.extract.base import DateRequest
from salesagent.dialog.extract.numbers import ordinal_at
from salesagent.dialog.extract.text import Utterance

_TIME_PREPS = frozenset({"в", "во", "к", "на", "около", "после", "до", "часов", "часиков", "часа", "примерно"})
_SKIP_BEFORE = frozenset({"в", "во", "на", "к", "ко", "а", "лучше", "давайте", "можно", "уже", "тогда", "это"})
_NOT_AFTER_HOUR = frozenset({"день", "неделя", "месяц", "год", "раз", "лето", "кг", "килограмм", "кило",
                             "минута", "сутки", "процент", "рубль", "тысяча", "число", "человек", "этаж"})
_PM_MARKERS = {"дня": 12, "вечера": 12, "вечером": 12, "днем": 12}
_AM_MARKERS = frozenset({"утра", "утром", "ночи"})
_NOT_AFTER_ORDINAL = frozenset({"вариант", "время", "час", "раз", "половина", "этаж", "месяц", "неделя", "год",
                                "день", "слот", "окно", "окошко", "сеанс"})
_DATE_SLOTS = frozenset({"date", "time", "appointment_datetime", "appointment_date", "appointment_time", "day"})


@dataclass
class _Mention:
    kind: str  # "day" | "time"
    value: date | time
    start: int
    end: int
    negated: bool = False


@dataclass
class DateResult:
    request: DateRequest | None
    correction: bool
    claimed: frozenset[int] = field(default_factory=frozenset)


def _opening_bounds(profile: ClinicProfile) -> tuple[int, int]:
    hours = profile.schedule.hours.values()
    return min(o.hour for o, _ in hours), max(c.hour for _, c in hours)


def _weekday_of(token: str, lemma: str) -> int | None:
    if lemma in lexicon.WEEKDAYS:
        return lexicon.WEEKDAYS[lemma]
    for stem, wd in lexicon.WEEKDAY_STEMS:
        if token.startswith(stem):
            return wd
    return None


def _resolve_hour(hour: int, minute: int, marker: str | None, bounds: tuple[int, int]) -> time | None:
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        return None
    if marker in _PM_MARKERS and hour < 12:
        hour += 12
    elif marker is None:
        open_h, close_h = bounds
        if hour < open_h and hour + 12 <= close_h:
            hour += 12
    if hour == 24:
        hour = 0
    return time(hour, minute)


def _marker_after(utt: Utterance, j: int) -> tuple[str | None, int]:
    tok = utt.token_at(j)
    if tok in _PM_MARKERS or tok in _AM_MARKERS:
        return tok, j + 1
    return None, j


class _Parser:
    def __init__(self, utt: Utterance, now: datetime, profile: ClinicProfile, claimed: set[int],
                 time_expected: bool) -> None:
        self.utt = utt
        self.today = now.date()
        self.bounds = _opening_bounds(profile)
        self.claimed = claimed
        self.time_expected = time_expected
        self.mentions: list[_Mention] = []
        self.parts: list[tuple[str, int, int]] = []  # (part_of_day, start, end)
        self.week_offset: int | None = None
        self.used: set[int] = set()

    # -- helpers ---------------------------------------------------------------------------------
    def free(self, i: int) -> bool:
        return 0 <= i < len(self.utt.tokens) and i not in self.claimed and i not in self.used

    def add(self, kind: str, value: date | time, start: int, end: int) -> None:
        self.mentions.append(_Mention(kind, value, start, end))
        self.used.update(range(start, end))

    def next_weekday(self, wd: int, week_offset: int | None) -> date:
        if week_offset is None:
            delta = (wd - self.today.weekday()) % 7
            return self.today + timedelta(days=delta or 7)
        monday = self.today - timedelta(days=self.today.weekday()) + timedelta(weeks=week_offset)
        return monday + timedelta(days=wd)

    def month_day(self, day: int, month: int | None) -> date | None:
        year, mon = self.today.year, month or self.today.month
        for _ in range(2):
            try:
                candidate = date(year, mon, day)
            except ValueError:
                candidate = None
            if candidate is not None and candidate >= self.today:
                return candidate
            if month is None:
                mon, year = (1, year + 1) if mon == 12 else (mon + 1, year)
            else:
                year += 1
        return None

    # -- passes ----------------------------------------------------------------------------------
    def scan(self) -> None:
        u = self.utt
        toks, lems = u.tokens, u.lemmas
        for i in range(len(toks) - 1):  # "на следующей неделе", "на этой неделе"
            if lems[i + 1] == "неделя" and lems[i] in ("следующий", "этот", "будущий"):
                self.week_offset = 0 if lems[i] == "этот" else 1
                self.used.update((i, i + 1))
        i = 0
        while i < len(toks):
            if not self.free(i):
                i += 1
                continue
            step = (self._relative(i) or self._weekday(i) or self._in_days(i) or self._calendar(i)
                    or self._half_past(i) or self._quarter_to(i) or self._clock(i) or self._part_of_day(i))
            i = step if step else i + 1

    def _relative(self, i: int) -> int | None:
        shift = lexicon.RELATIVE_DAYS.get(self.utt.tokens[i])
        if shift is None:
            return None
        self.add("day", self.today + timedelta(days=shift), i, i + 1)
        return i + 1

    def _weekday(self, i: int) -> int | None:
        u = self.utt
        wd = _weekday_of(u.tokens[i], u.lemmas[i])
        if wd is None:
            return None
        prev = u.lemma_at(i - 1)
        if prev in lexicon.SINCE_WORDS or prev == "прошлый" or u.lemma_at(i - 2) == "прошлый":
            return None  # "с понедельника" (a duration), "в прошлую пятницу" (the past)
        offset = self.week_offset
        if prev in ("следующий", "будущий"):
            offset = 1
        elif prev == "этот":
            offset = 0
        day = self.next_weekday(wd, offset)
        if prev == "после":  # "после среды": the day after
            day += timedelta(days=1)
        self.add("day", day, i, i + 1)
        return i + 1

    def _in_days(self, i: int) -> int | None:
        u = self.utt
        if u.tokens[i] != "через":
            return None
        n = u.number(i + 1)
        unit_at = i + 2 if n is not None else i + 1
        n = 1 if n is None else n
        unit = u.lemma_at(unit_at)
        if unit == "день":
            days = 2 if n == 1 and unit_at == i + 1 else n  # "через день" = the day after tomorrow
        elif unit == "неделя":
            days = 7 * n
        else:
            return None
        if days > 366:
            return None
        self.add("day", self.today + timedelta(days=days), i, unit_at + 1)
        return unit_at + 1

    def _calendar(self, i: int) -> int | None:
        u = self.utt
        found = ordinal_at(u.tokens, u.lemmas, i)
        if found is None:
            n = u.number(i)
            if n is None or not (lexicon.MONTHS.get(u.lemma_at(i + 1)) or u.lemma_at(i + 1) == "число"):
                return None
            found = (n, i + 1)
        day, j = found
        month = lexicon.MONTHS.get(u.lemma_at(j))
        if month is not None or u.lemma_at(j) == "число":
            end = j + 1
        elif self._bare_day(i, j):
            end = j  # "двадцать девятого", "на третье": the day of this (or next) month
        else:
            return None
        if not 1 <= day <= 31:
            return None
        resolved = self.month_day(day, month)
        if resolved is None:
            return None
        if u.token_at(i - 1) == "после":  # "после пятого числа" = from the sixth on
            resolved += timedelta(days=1)
        self.add("day", resolved, i, end)
        return end

    def _bare_day(self, i: int, j: int) -> bool:
        """An ordinal without "числа" or a month is a day of the month when the agent asked for a
        day, or after a preposition of dates, and it is in the genitive or neuter ("третьего",
        "третье"), not "третий вариант" or "во втором часу"."""
        u = self.utt
        if u.lemma_at(j) in _NOT_AFTER_ORDINAL or u.token_at(j) in _PM_MARKERS or u.token_at(j) in _AM_MARKERS:
            return False
        form_ok = u.token_at(j - 1).endswith(("ого", "его", "ое", "ье", "ее", "го"))
        prep = u.token_at(i - 1) in ("на", "к", "до", "после", "с", "со")
        return form_ok and (self.time_expected or prep)

    def _half_past(self, i: int) -> int | None:
        """"в половине одиннадцатого", "пол одиннадцатого", "полодиннадцатого" -> 10:30."""
        u = self.utt
        tok = u.tokens[i]
        if tok in ("половине", "половина", "пол"):
            found = ordinal_at(u.tokens, u.lemmas, i + 1)
        elif tok.startswith("пол") and len(tok) > 5:
            from salesagent.dialog.extract import morph

            rest = tok[3:]
            found = ordinal_at([rest], [morph.lemma(rest)], 0)
            found = (found[0], i + 1) if found else None
        else:
            return None
        if found is None or not 1 <= found[0] <= 24:
            return None
        marker, end = _marker_after(u, found[1])
        at = _resolve_hour(found[0] - 1, 30, marker, self.bounds)
        if at is None:
            return None
        self.add("time", at, i, end)
        return end

    def _quarter_to(self, i: int) -> int | None:
        """"без пятнадцати три", "без четверти три" -> 14:45."""
        u = self.utt
        if u.tokens[i] != "без":
            return None
        minutes = 15 if u.lemma_at(i + 1) == "четверть" else u.number(i + 1)
        hour = u.number(i + 2)
        if minutes is None or hour is None or not 1 <= minutes < 60 or not 1 <= hour <= 24:
            return None
        marker, end = _marker_after(u, i + 3)
        at = _resolve_hour(hour - 1, 60 - minutes, marker, self.bounds)
        if at is None:
            return None
        self.add("time", at, i, end)
        return end

    def _clock(self, i: int) -> int | None:
        u = self.utt
        tok = u.tokens[i]
        if ":" in tok:
            hh, _, mm = tok.partition(":")
            if hh.isdigit() and mm.isdigit():
                marker, end = _marker_after(u, i + 1)
                at = _resolve_hour(int(hh), int(mm), marker, self.bounds)
                if at is not None:
                    self.add("time", at, i, end)
                    return end
            return None
        if tok == "полдень":
            self.add("time", time(12, 0), i, i + 1)
            return i + 1
        n = u.number(i)
        if n is not None and u.token_at(i - 1) == "ни":
            return None  # "ни одно не подходит" names no hour
        prep = u.token_at(i - 1) in _TIME_PREPS
        if n is None:
            # "в час дня": "час" alone is one o'clock
            if tok == "час" and u.token_at(i - 1) in ("в", "к") and u.number(i - 2) is None:
                marker, end = _marker_after(u, i + 1)
                at = _resolve_hour(1, 0, marker, self.bounds)
                if at is not None:
                    self.add("time", at, i, end)
                    return end
            return None
        hour, minute, j = n, 0, i + 1
        if len(tok) in (3, 4) and n >= 100:
            # "в семь ноль ноль" -> "700", "в десять тридцать" typed as "1030"; "около ста" is no time
            hour, minute = divmod(n, 100)
            if u.token_at(i - 1) not in ("в", "к") or not (minute or "ноль" in u.words):
                return None
        elif u.number(j) is not None and len(u.tokens[j]) == 2 and u.number(j) < 60:  # type: ignore[operator]
            minute = u.number(j) or 0
            j += 1
        if u.lemma_at(j) == "час":
            j += 1
        has_hours_word = u.lemma_at(j - 1) == "час" and j - 1 > i
        if u.lemma_at(j) == "с" and u.lemma_at(j + 1) == "половина":  # "в десять с половиной"
            minute, j = 30, j + 2
        marker, end = _marker_after(u, j)
        if marker is None and u.lemma_at(j) in _NOT_AFTER_HOUR:
            return None  # "в два раза", "на десять килограмм", "две недели"
        if not (prep or has_hours_word or marker or minute or self.time_expected):
            return None
        if hour > 24:
            return None
        at = _resolve_hour(hour, minute, marker, self.bounds)
        if at is None:
            return None
        self.add("time", at, i, end)
        return end

    def _part_of_day(self, i: int) -> int | None:
        u = self.utt
        tok, lem = u.tokens[i], u.lemmas[i]
        nxt = u.lemma_at(i + 1)
        part: str | None = None
        end = i + 1
        if tok in ("утром", "утречком") or (tok in ("утра", "утро") and u.token_at(i - 1) == "с"):
            part = "morning"
        elif tok in ("вечером", "вечерком") or (lem == "вечер" and u.token_at(i - 1) in ("к", "на", "под")):
            part = "evening"
        elif lem in ("вечерний", "вечерок", "вечерочек") or tok.startswith(("поближе к вечер", "ближе к вечер")):
            part = "evening"  # "давайте вечернее", "вечерком"
        elif lem in ("утренний", "утречко", "ранний утренний"):
            part = "morning"
        elif lem in ("дневной", "обеденный") or tok == "днем" or (lem == "обед" and u.token_at(i - 1) in ("в", "к")):
            part = "afternoon"
        elif tok == "после" and nxt == "обед":
            part, end = "afternoon", i + 2
        elif tok == "до" and nxt == "обед":
            part, end = "morning", i + 2
        elif lem == "второй" and nxt == "половина" and u.lemma_at(i + 2) == "день":
            part, end = "afternoon", i + 3
        elif lem == "первый" and nxt == "половина" and u.lemma_at(i + 2) == "день":
            part, end = "morning", i + 3
        if part is None:
            return None
        self.parts.append((part, i, end))
        self.used.update(range(i, end))
        return end

    # -- result ----------------------------------------------------------------------------------
    def negated(self, m: _Mention) -> bool:
        toks = self.utt.tokens
        j = m.start - 1
        while j >= 0 and toks[j] in _SKIP_BEFORE:
            j -= 1
        return j >= 0 and toks[j] == "не"

    def result(self) -> DateResult:
        for m in self.mentions:
            m.negated = self.negated(m)
        days = [m for m in self.mentions if m.kind == "day"]
        times = [m for m in self.mentions if m.kind == "time"]
        if not days and self.week_offset is not None:
            # "на следующей неделе" with no weekday: from that week's Monday (or today) on
            monday = self.today - timedelta(days=self.today.weekday()) + timedelta(weeks=self.week_offset)
            days = [_Mention("day", max(monday, self.today), 0, 0)]
        day = next((m.value for m in reversed(days) if not m.negated), None)
        not_day = next((m.value for m in reversed(days) if m.negated), None)
        at = next((m.value for m in reversed(times) if not m.negated), None)
        not_at = next((m.value for m in reversed(times) if m.negated), None)
        part = self.parts[-1][0] if self.parts and at is None else None
        if day is None and at is None and part is None and not_day is None and not_at is None:
            return DateResult(None, False)
        correction = (not_day is not None and day is not None) or (not_at is not None and at is not None)
        request = DateRequest(
            day=day if isinstance(day, date) else None,
            at=at if isinstance(at, time) else None,
            part_of_day=part,  # type: ignore[arg-type]
            not_day=not_day if isinstance(not_day, date) else None,
            not_at=not_at if isinstance(not_at, time) else None,
        )
        return DateResult(request, correction, frozenset(self.used))


def extract_date(utt: Utterance, now: datetime, profile: ClinicProfile, claimed: set[int],
                 expected: tuple[str, ...] = ()) -> DateResult:
    parser = _Parser(utt, now, profile, claimed, time_expected=bool(_DATE_SLOTS & set(expected)))
    parser.scan()
    return parser.result()
