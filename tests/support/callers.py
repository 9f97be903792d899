"""Reactive Russian callers: personas that hear the agent's words and answer from their own facts.

The fuzzer (``fuzz.py``) answers per engine *state*; a real caller never sees the state, only
what the agent said. A reactive caller reads the reply text, guesses which question it was asked
(``question_kind``, from Russian wording alone), and answers from its persona in its own style,
varied by a seeded RNG. A persona (``tests/dialog/callers/*.yaml``) also lists what the call
must end with (status and slots); ``callers_run`` plays a set and scores those checks the way
issue 9 scored its hidden callers.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from .fuzz import CallRecord, TurnRecord, post_turn

MAX_TURNS = 60
PERSONA_DIR = Path(__file__).resolve().parents[1] / "dialog" / "callers"

# (kind, words in the question sentence); the first kind whose word occurs wins, so order matters:
# read-backs before the questions they read back, extras before "записать", duration before complaint
# ("сколько времени вас это беспокоит"), complaint before pain.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("what_to_fix", ("что нужно исправить", "что исправить")),
    ("confirm", ("всё верно", "все верно", "подтверждаете запись", "подтвердите запись", "давайте проверим",
                 "повторю ещё раз")),
    ("confirm_time", ("записываю вас", "итак,", "подтверждаете?", "подтвердите, пожалуйста")),
    ("video", ("видео",)),
    ("media", ("диск", "флешк", "носител")),
    ("discount", ("скидк",)),
    ("contra", ("противопоказ", "кардиостимулятор", "перечисленного", "имплант", "клаустрофоб", "беременн")),
    ("phone", ("номер", "телефон")),
    ("age_weight", ("возраст и", "лет и", "возраст, вес", "возраст и вес")),
    ("age", ("возраст", "полных лет", "сколько вам лет", "лет вам")),
    ("weight", ("вес",)),
    ("time", ("какое время", "что выбираете", "время записать", "время вам", "во сколько", "какое время")),
    ("day", ("какой день", "удобный день", "день, когда", "день вам", "какое число", "какую дату")),
    ("alternative", ("вместо",)),
    ("decision", ("рекомендуют", "предложила", "записываем вас", "записать вас", "готовы записаться",
                  "вам подходит", "записаться на")),
    ("study", ("какое исследование", "какую область", "исследование, которое", "какое именно исследование")),
    ("duration", ("как давно", "сколько времени", "началось", "давно")),
    ("complaint", ("беспокоит", "жалуетесь", "где болит", "что болит", "жалобы")),
    ("pain", ("характер", "боль")),
    ("doctor", ("врач", "направлени")),
    ("name", ("обращаться", "имя", "зовут")),
    ("greeting", ("чем могу помочь", "чем могу вам помочь")),
)
READBACK_RE = re.compile(r"номер\S*:?\s*\+?\d[\d\s()-]{6,}")
PHONE_IN_SUMMARY = re.compile(r"\bтелефон\s+(\+?\d[\d\s()-]{8,}\d)")  # not "по телефону <clinic>"
NOT_OFFERED_CUES = ("у нас не делают", "у нас не проводят", "не делаем")
ALTERNATIVE_CUES = ("вместо", "противопоказан", "ограничение по весу")
YES_KINDS = frozenset({"decision", "alternative", "confirm_time", "confirm", "phone_readback"})
NO_KINDS = frozenset({"video", "media", "discount", "contra"})
FILLERS = ("ну", "э-э", "так", "вот", "значит", "эм", "ну вот", "как бы")
CHATTY_OPEN = ("слушайте, ", "ой, ", "так, ", "ну смотрите, ", "девушка, ")
CHATTY_CLOSE = (", вот", ", как-то так", ", вот такая история", "")
SAYS_WHAT = ("что-что?", "простите, что?", "не поняла, повторите", "алло, вас плохо слышно")
DATE_RE = re.compile(r"\b(\d{1,2}) (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)\b")
TIME_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = {"morning": (0, 12), "day": (12, 17), "evening": (17, 24)}


def question_sentence(reply: str) -> str:
    """The sentence the agent ends its turn on: the last one with a question mark, else the last."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", reply.strip()) if p.strip()]
    asked = [p for p in parts if p.endswith("?")]
    return (asked[-1] if asked else (parts[-1] if parts else "")).lower()


def question_kind(reply: str, heed_refusal: bool = True) -> str:
    """What the agent asked, from its wording alone (never the engine's state).

    "We do not do that here" is what a caller reacts to first, whatever question follows it.
    """
    whole = reply.lower()
    if heed_refusal and any(w in whole for w in NOT_OFFERED_CUES):
        return "not_offered"
    asked = question_sentence(reply)
    if READBACK_RE.search(whole) and any(w in asked for w in ("верно", "правильно", "так?")):
        return "phone_readback"
    for text in (question_sentence(reply), whole):
        for kind, words in KINDS:
            if any(w in text for w in words):
                if kind == "decision" and any(w in whole for w in ALTERNATIVE_CUES):
                    return "alternative"
                return kind
    return "unknown"


@dataclass
class Persona:
    """One caller: how it answers each kind of question (a list of steps: the n-th time a question
    is asked the n-th step is said, the last repeats; a step is a phrase or a list to choose from),
    its style, the true phone (read-backs are checked against it), its wish for the appointment and
    the checks its call must pass."""

    id: str
    answers: dict[str, list]
    expect: dict
    style: dict = field(default_factory=dict)
    phone: str | None = None
    wish: dict = field(default_factory=dict)
    note: str = ""


def load_personas(set_name: str) -> list[Persona]:
    """The personas of ``tests/dialog/callers/<set_name>*.yaml``, in file then list order."""
    out = []
    for path in sorted(PERSONA_DIR.glob(f"{set_name}*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            answers = {k: (v if isinstance(v, list) else [v]) for k, v in (item.get("answers") or {}).items()}
            out.append(Persona(id=item["id"], answers=answers, expect=item.get("expect") or {},
                               style=item.get("style") or {}, phone=item.get("phone"),
                               wish=item.get("wish") or {}, note=item.get("note", "")))
    return out


def styled(text: str, style: dict, rng: random.Random) -> str:
    """The caller's words as its style says them: fillers, chatter, or ASR's lower case without punctuation."""
    if not text:
        return text
    if style.get("chatty") and rng.random() < style["chatty"]:
        text = rng.choice(CHATTY_OPEN) + text + rng.choice(CHATTY_CLOSE)
    if style.get("fillers") and rng.random() < style["fillers"]:
        text = f"{rng.choice(FILLERS)} {text}"
    if style.get("asr"):
        text = re.sub(r"[.,!?;:«»\"()…]", " ", text.lower()).replace(" - ", " ").replace("-", " ")
        text = re.sub(r"\s+", " ", text).strip()
    return text


def offered_times(reply: str, now) -> list:
    """The (date, "HH:MM") pairs the agent names in ``reply``, each on the last date named before it."""
    from .fuzz_checks import _spoken_date

    dates = [(m.start(), _spoken_date(int(m.group(1)), m.group(2), now)) for m in DATE_RE.finditer(reply)]
    out = []
    for m in TIME_RE.finditer(reply):
        before = [d for pos, d in dates if pos < m.start()]
        out.append((before[-1] if before else None, f"{int(m.group(1)):02d}:{m.group(2)}"))
    return out


def wish_problem(wish: dict, day, hhmm: str, offered: list) -> str | None:
    """Why a booked (day, time) is not what the caller wished for (None: it is)."""
    if day is None:
        return "no day"
    if wish.get("date") and day.isoformat() != str(wish["date"]):
        return f"day {day} is not {wish['date']}"
    if wish.get("weekday") and WEEKDAYS[day.weekday()] != wish["weekday"]:
        return f"{day} is a {WEEKDAYS[day.weekday()]}, not {wish['weekday']}"
    if wish.get("after") and day.day <= int(wish["after"]) and day.month == 12:
        return f"{day} is not after the {wish['after']}th"
    hour = int(hhmm[:2])
    if wish.get("part") and not PARTS[wish["part"]][0] <= hour < PARTS[wish["part"]][1]:
        return f"{hhmm} is not in the {wish['part']}"
    if wish.get("time") and hhmm != wish["time"]:
        return f"{hhmm} is not {wish['time']}"
    pick = wish.get("pick")
    if pick is not None and offered:
        times = [t for _, t in offered]
        want = min(times) if pick == "earliest" else (max(times) if pick == "latest" else times[int(pick)])
        if hhmm != want:
            return f"{hhmm} is not the offered time {pick} ({times})"
    return None


class ReactiveCaller:
    """Plays one persona through ``POST /dialog``, reacting to each reply's words."""

    def __init__(self, client: httpx.Client, persona: Persona, index: int, seed: str, now) -> None:
        self.client, self.persona, self.now = client, persona, now
        self.rng = random.Random(f"{seed}:{persona.id}")
        self.asked: dict[str, int] = {}
        self.last_answer = ""
        self.offered: list = []
        self.objection: str | None = None
        self.record = CallRecord(index, seed, persona.id, f"callers-{seed}-{persona.id}")

    def step(self, kind: str) -> str | None:
        steps = self.persona.answers.get(kind)
        if not steps:
            return None
        n = self.asked.get(kind, 0)
        chosen = steps[min(n, len(steps) - 1)]
        return self.rng.choice(chosen) if isinstance(chosen, list) else str(chosen)

    def _yes(self) -> str:
        return self.step("yes") or self.rng.choice(("да", "да, верно", "да", "угу, да", "всё так"))

    def reaction(self, reply: str) -> tuple[str, str]:
        """(the question kind heard, what this caller says to it)."""
        kind = question_kind(reply)
        if kind == "not_offered" and (self.asked.get(kind) or not self.persona.answers.get(kind)):
            kind = question_kind(reply, heed_refusal=False)
        if kind not in ("greeting", "unknown") and not self.asked.get(kind) and not self.asked.get(f"{kind}?"):
            for trait, says in (("mishears", SAYS_WHAT), ("silence", ("", "...", "э-э"))):
                if self.rng.random() < self.persona.style.get(trait, 0):
                    self.asked[f"{kind}?"] = 1  # once per question; the answer comes when it is asked again
                    return kind, self.rng.choice(says)
        text = self._answer(kind, reply)
        self.asked[kind] = self.asked.get(kind, 0) + 1
        if text is None:
            text = self.rng.choice(("что-что?", self.last_answer or "да", "да"))
            return kind, text
        return kind, styled(text, self.persona.style, self.rng)

    def _answer(self, kind: str, reply: str) -> str | None:
        if kind == "time":
            self.offered = offered_times(reply, self.now)
        if kind == "phone_readback" and self.persona.phone:
            digits = re.sub(r"\D", "", question_sentence(reply) if "номер" in question_sentence(reply) else reply)
            if digits[-10:] == self.persona.phone[-10:]:
                return self.step("readback_yes") or self._yes()
            return self.step("phone_fix") or self.step("phone")
        if kind == "confirm_time":
            heard = offered_times(reply, self.now)
            if heard and heard[-1][0] is not None and wish_problem(self.persona.wish, *heard[-1], []) is None:
                return self.step("confirm_time") or self._yes()
            return self.step("time_no") or "нет, это мне не подходит"
        if kind == "confirm":
            objection = self._objection(reply)
            if objection:
                return objection
        if kind == "what_to_fix":
            return {"phone": "телефон", "time": "время"}.get(self.objection or "", "ничего, всё верно")
        if kind == "phone" and self.objection == "phone" and self.persona.answers.get("phone_fix"):
            return str(self.persona.answers["phone_fix"][-1])
        said = self.step(kind)
        if said is not None:
            return said
        if self.persona.answers.get("otherwise"):  # a caller who has given up says so to anything
            return self.step("otherwise")
        if kind == "age_weight" and (self.step("age") or self.step("weight")):
            return ", ".join(x for x in (self.step("age"), self.step("weight")) if x)
        if kind == "greeting":
            return "здравствуйте, я хотел бы записаться на обследование"
        if kind in YES_KINDS:
            return self._yes()
        if kind in NO_KINDS:
            return self.rng.choice(("нет", "нет, не нужно", "нет"))
        return None

    def _objection(self, summary: str) -> str | None:
        """What a caller says on hearing a wrong phone or time in the final read-back (None: all fine)."""
        phones = PHONE_IN_SUMMARY.findall(summary)
        phone = phones[-1] if phones else None
        if phone and self.persona.phone and re.sub(r"\D", "", phone)[-10:] != self.persona.phone[-10:]:
            self.objection = "phone"
            return self.step("phone_fix") or "нет, телефон неправильный"
        heard = offered_times(summary, self.now)
        if heard and heard[-1][0] is not None and wish_problem(self.persona.wish, *heard[-1], []) is not None:
            self.objection = "time"
            return self.step("time_no") or "нет, время не то"
        return None

    def say(self, text: str, asked: str, facts: dict | None = None) -> TurnRecord:
        turn = TurnRecord(text=text, kind="start" if asked == "" else "persona", code=-1, asked=asked,
                          facts=facts or {})
        self.record.turns.append(turn)
        return post_turn(self.client, self.record.session_id, turn)

    def _facts(self, kind: str) -> dict:
        """What this answer states in clear words, for the fuzzer's heard-safety invariant."""
        expect = self.persona.expect
        if kind in ("weight", "age_weight") and isinstance(expect.get("weight"), int):
            return {"weight": expect["weight"]}
        if kind == "contra" and expect.get("contraindications") and self.persona.answers.get("contra"):
            return {"contra": expect["contraindications"][0]}
        return {}

    def play(self) -> CallRecord:
        last = self.say("", "")
        heard: list[str] = []
        for _ in range(MAX_TURNS):
            if last.done or last.code != 200:
                break
            kind, text = self.reaction(last.reply)
            heard.append(kind)
            facts = self._facts(kind)
            self.last_answer = text
            last = self.say(text, last.state or "?", facts)
        self.record.body = {"heard": heard}
        response = self.client.get(f"/session/{self.record.session_id}")
        if response.status_code == 200:
            self.record.session = response.json()
        return self.record
