"""A scripted caller for the failure-class tests: a cooperative answer for every state, with the
answers under test said where the engine asks for them.

Why a script keyed by state rather than a fixed list of lines: the engine decides the order of
its questions (it skips what it already knows, re-asks what it did not understand), so a test
that wants "this phrasing, at this question" must wait for the engine to ask it. Every turn is
recorded (the state asked from, the words, the reply, the slots after it), so a failing test
prints the whole call and can check facts of a single turn (the question was asked again, a
slot was never filled on the way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

# Clock of these tests: Thursday 3 December 2026, 10:00 Moscow.
NOW = "2026-12-03T10:00:00+03:00"
BASE_DATE = "2026-12-04"  # "в пятницу"
BASE_TIME = "14:30"  # free on every weekday of the profile's week, inside working hours
BASE_PHONE = "+79161234567"

BASELINE: dict[str, str] = {
    "GREETING": "здравствуйте хочу записаться на обследование",
    "ASK_CLIENT_NAME": "меня зовут Ольга",
    "ASK_SYMPTOMS": "болит колено после падения",
    "ASK_SYMPTOMS_DURATION": "уже две недели",
    "ASK_PAIN_CHARACTER": "ноющая боль",
    "ASK_VISITED_DOCTOR": "да была у травматолога",
    "ASK_STUDY_REQUEST": "мрт колена",
    "RECOMMEND_STUDY": "да давайте",
    "ANNOUNCE_PRICE": "да",
    "ASK_STUDY_DECISION": "да",
    "OFFER_VIDEO_CONCLUSION": "нет спасибо",
    "ANNOUNCE_MEDIA_PRICE": "нет не нужно",
    "ASK_APPOINTMENT_DATE": "в пятницу",
    "OFFER_APPOINTMENT_TIMES": "в половине третьего",
    "CONFIRM_TIME": "да",
    "ASK_PHONE": "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
    "ASK_AGE_WEIGHT": "мне сорок пять лет вешу восемьдесят килограмм",
    "CHECK_CONTRAINDICATIONS": "нет ничего такого нет",
    "CHECK_DISCOUNTS": "нет",
    "CONFIRM_APPOINTMENT": "да всё верно",
}

ANY = "*"  # a step for whatever question comes next


@dataclass(frozen=True)
class Step:
    """Say ``text`` when the engine next asks from ``state`` (``ANY``: at the very next turn).

    ``retry`` steps are said only if the engine asks the previous step's question again right
    away (it did not understand); otherwise they are dropped. A retry answer is chosen to
    contradict the expected result, so a phrasing that was not understood shows in final slots.
    """

    state: str
    text: str
    retry: bool = False


@dataclass
class Turn:
    asked: str  # the state whose question the caller answered
    text: str
    reply: str
    state: str  # the state the engine is in after the turn
    slots: dict
    scripted: bool  # a step of the test, not a baseline answer


@dataclass
class Played:
    turns: list[Turn] = field(default_factory=list)
    greeting: str = ""

    @property
    def final(self) -> Turn:
        return self.turns[-1]

    @property
    def slots(self) -> dict:
        return self.final.slots

    @property
    def done(self) -> bool:
        return self.final.state in ("END", "FAREWELL")

    def scripted(self) -> list[Turn]:
        return [t for t in self.turns if t.scripted]

    def after(self, text: str) -> Turn:
        """The turn in which the caller said ``text`` (the first one)."""
        return next(t for t in self.turns if t.text == text)

    def following(self, turn: Turn) -> Turn | None:
        index = self.turns.index(turn)
        return self.turns[index + 1] if index + 1 < len(self.turns) else None

    def transcript(self) -> str:
        lines = [f"A: {self.greeting}"]
        for t in self.turns:
            mark = "*" if t.scripted else " "
            lines.append(f"{mark}[{t.asked}] C: {t.text}")
            lines.append(f"   -> {t.state}: {t.reply}")
        lines.append(f"final slots: {self.slots}")
        return "\n".join(lines)


class ScriptCaller:
    """Plays one call through POST /dialog: ``steps`` in order, the baseline everywhere else."""

    def __init__(self, base_url: str, session_id: str, baseline: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.session_id = session_id
        self.baseline = dict(BASELINE if baseline is None else baseline)

    def close(self) -> None:
        self.client.close()

    def _post(self, text: str) -> dict:
        response = self.client.post("/dialog", json={"session_id": self.session_id, "text": text})
        assert response.status_code == 200, f"{response.status_code} for {text!r}: {response.text}"
        return response.json()

    def play(self, steps: list[Step], limit: int = 45) -> Played:
        played = Played()
        last = self._post("")
        played.greeting = last["reply"]
        pending = list(steps)
        previous_step: Step | None = None
        for _ in range(limit):
            if last["done"]:
                return played
            asked = last["state"]
            while pending and pending[0].retry and not (previous_step and asked == previous_step.state):
                pending.pop(0)  # the previous answer was understood: its retry is not needed
            step = pending[0] if pending and pending[0].state in (asked, ANY) else None
            if step is not None:
                pending.pop(0)
                text, previous_step = step.text, Step(asked, step.text)
            else:
                assert asked in self.baseline, f"no scripted answer for {asked}\n{played.transcript()}"
                text, previous_step = self.baseline[asked], None
            last = self._post(text)
            played.turns.append(Turn(asked, text, last["reply"], last["state"], last["slots"], step is not None))
        raise AssertionError(f"the call did not end in {limit} turns\n{played.transcript()}")

    def session(self) -> dict:
        response = self.client.get(f"/session/{self.session_id}")
        assert response.status_code == 200, response.text
        return response.json()


TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")


def times_in(reply: str) -> list[str]:
    """Clock times said in a reply ("8:30, 15:00 и 21:30"), as HH:MM, in the order said."""
    return [f"{int(h):02d}:{m}" for h, m in TIME.findall(reply)]


_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                  ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s",
                   "t", "u", "f", "h", "c", "ch", "sh", "sch", "", "y", "", "e", "ju", "ja"], strict=True))


def slug(text: str, limit: int = 48) -> str:
    """An ASCII test id for a Russian phrasing (pytest escapes non-ASCII ids into \\u sequences)."""
    latin = "".join(_LATIN.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", latin).strip("-")[:limit] or "empty"
