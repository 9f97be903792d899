"""Russian wording helpers for replies: plural agreement, dates, times, prices, phones.

Replies are written in the forms the speech normaliser reads well ("4500 рублей", "27 ноября",
"10:30", "+7 916 123-45-67"), so the same text is right on screen and in the TTS.
"""

from __future__ import annotations

from datetime import date, datetime

MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
WEEKDAYS_ACC = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for ``n``: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def price(amount: int) -> str:
    return f"{amount} {plural(amount, 'рубль', 'рубля', 'рублей')}"


def minutes(n: int) -> str:
    return f"{n} {plural(n, 'минуту', 'минуты', 'минут')}"


def day_month(d: date) -> str:
    return f"{d.day} {MONTHS_GEN[d.month - 1]}"


def weekday_prep(d: date) -> str:
    """"в пятницу", "во вторник"."""
    name = WEEKDAYS_ACC[d.weekday()]
    return ("во " if name == "вторник" else "в ") + name


def date_phrase(d: date, today: date) -> str:
    """"завтра, 26 ноября" / "в пятницу, 27 ноября" — how an administrator names a day."""
    delta = (d - today).days
    if delta == 0:
        head = "сегодня"
    elif delta == 1:
        head = "завтра"
    elif delta == 2:
        head = "послезавтра"
    else:
        head = weekday_prep(d)
    return f"{head}, {day_month(d)}"


def clock(dt: datetime) -> str:
    return f"{dt.hour}:{dt.minute:02d}"


def appointment(dt: datetime, today: date) -> str:
    """"в пятницу, 27 ноября, в 10:30"."""
    return f"{date_phrase(dt.date(), today)}, в {clock(dt)}"


def join_and(items: list[str]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " и " + items[-1]


def phone(e164: str) -> str:
    """"+79161234567" -> "+7 916 123-45-67"."""
    d = e164.lstrip("+")
    if len(d) != 11:
        return e164
    return f"+{d[0]} {d[1:4]} {d[4:7]}-{d[7:9]}-{d[9:11]}"


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
