"""Randomized callers played through the policy engine's HTTP API (``POST /dialog``).

Each caller has a persona (how often it answers, mumbles, asks off-script, corrects itself, goes
silent or talks nonsense) and answers per state from ``fuzz_pools``. Everything is driven by one
seed: call ``i`` of run ``seed`` uses ``random.Random(f"{seed}:{i}")``, so a failing call is
reproduced from the seed printed with its transcript (the booking ledger is shared, so other
callers' bookings may still change which times are offered).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from . import fuzz_pools as pools

MAX_CALLER_TURNS = 60
"""A real booking takes about 20 caller turns; a caller still talking after 60 was never ended."""

KINDS = ("answer", "asr", "written", "filler_answer", "filler", "silence", "off_script", "off_script_answer",
         "correction", "refusal", "callback", "human", "garbage", "long", "latin", "other_state", "agree")

# persona -> weight of each kind of turn (missing kinds: 0). Terminating kinds stay rare per turn.
PERSONAS: dict[str, dict[str, float]] = {
    "cooperative": {"answer": 75, "asr": 8, "written": 5, "filler_answer": 5, "off_script_answer": 3, "correction": 2,
                    "silence": 2},
    "noisy": {"answer": 40, "asr": 15, "written": 5, "filler_answer": 8, "filler": 5, "silence": 5, "off_script": 6,
              "off_script_answer": 4, "correction": 5, "garbage": 2, "latin": 2, "other_state": 3, "long": 1,
              "refusal": 0.5, "callback": 0.5, "human": 0.2},
    "chaotic": {"answer": 20, "asr": 15, "filler": 8, "silence": 8, "off_script": 10, "correction": 10,
                "garbage": 8, "latin": 6, "other_state": 10, "long": 3, "agree": 5, "refusal": 0.5, "callback": 0.5},
    "agreeable": {"agree": 70, "answer": 25, "filler_answer": 5},
    "silent": {"silence": 70, "filler": 20, "answer": 10},
    "stubborn": {"garbage": 40, "other_state": 30, "off_script": 20, "latin": 10},
}
PERSONA_WEIGHTS = {"cooperative": 35, "noisy": 35, "chaotic": 10, "agreeable": 8, "silent": 6, "stubborn": 6}
AGREE = ("хорошо", "ага", "ну да", "да", "угу", "ладно", "давайте", "конечно", "ну можно")
NEEDS_FACTS = frozenset({"ASK_PHONE", "ASK_AGE_WEIGHT", "ASK_CLIENT_NAME", "ASK_APPOINTMENT_DATE"})
NEIGHBOURS = {"е": "и", "и": "е", "а": "о", "о": "а", "ё": "е", "ш": "щ", "т": "д", "д": "т", "в": "ф", "з": "с",
              "б": "п", "г": "к", "ж": "ш"}


def corrupt(text: str, rng: random.Random) -> str:
    """ASR-style damage to a good answer: drop, duplicate, swap or merge words, change a letter."""
    tokens = text.split()
    if not tokens:
        return text
    op = rng.randrange(6)
    i = rng.randrange(len(tokens))
    if op == 0 and len(tokens) > 1:
        del tokens[i]
    elif op == 1:
        tokens.insert(i, tokens[i])
    elif op == 2 and len(tokens) > 1:
        j = min(i + 1, len(tokens) - 1) if i < len(tokens) - 1 else i - 1
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif op == 3 and i < len(tokens) - 1:
        tokens[i : i + 2] = [tokens[i] + tokens[i + 1]]
    elif op == 4:
        word = tokens[i]
        k = rng.randrange(len(word))
        letter = word[k]
        tokens[i] = word[:k] + NEIGHBOURS.get(letter, rng.choice("абвгдеклмнопрст")) + word[k + 1 :]
    else:
        word = tokens[i]
        if len(word) > 3:
            k = rng.randrange(1, len(word) - 1)
            tokens[i : i + 1] = [word[:k], word[k:]]
    return " ".join(tokens)


def written(text: str, rng: random.Random) -> str:
    """The same answer as a punctuating ASR (or a typed chat) writes it: capital, commas, a full stop."""
    tokens = text.split()
    if len(tokens) > 2 and rng.random() < 0.5:
        k = rng.randrange(1, len(tokens))
        tokens[k - 1] += ","
    out = " ".join(tokens)
    return (out[:1].upper() + out[1:] + rng.choice((".", "!", "?", "...", ""))) if out else out


NOISE: dict[str, Callable[[random.Random], str]] = {
    "filler": lambda rng: " ".join(rng.choice(pools.FILLERS) for _ in range(rng.randrange(1, 4))),
    "silence": lambda rng: rng.choice(("", "", " ", "...")),
    "off_script": lambda rng: rng.choice(pools.OFF_SCRIPT),
    "refusal": lambda rng: rng.choice(pools.REFUSALS),
    "callback": lambda rng: rng.choice(pools.CALLBACKS),
    "human": lambda rng: rng.choice(pools.HUMANS),
    "garbage": pools.garbage,
    "latin": lambda rng: rng.choice(pools.LATIN),
    "agree": lambda rng: rng.choice(AGREE),
}


def utterance(kind: str, state: str, rng: random.Random, me: dict | None = None) -> tuple[str, dict]:
    """One caller turn of ``kind`` in reply to the question of ``state``, and the facts it states.

    Facts (a weight, a contraindication) are kept only where the words reach the engine intact:
    a corrupted or out-of-place answer states nothing the safety checks may rely on.
    """
    if kind in NOISE:
        return NOISE[kind](rng), {}
    if kind == "long":
        return pools.long_text(rng, me), {}
    if kind == "correction":
        text = rng.choice(pools.CORRECTIONS)
        facts = dict(pools.CORRECTION_FACTS.get(text, {}))
        if me is not None:  # from now on this caller says the corrected age / weight
            me.update({k: v for k, v in facts.items() if k in ("age", "weight")})
        return text, facts
    if kind == "other_state":
        return pools.answer_facts(rng.choice(tuple(pools.POOLS)), rng, me)[0], {}
    text, facts = pools.answer_facts(state, rng, me)
    if kind == "answer":
        return text, facts
    if kind == "asr":
        return corrupt(text, rng), {}
    if kind == "written":
        return written(text, rng), facts
    if kind == "filler_answer":
        return f"{rng.choice(pools.FILLERS)} {text}", facts
    if kind == "off_script_answer":
        return f"{rng.choice(pools.OFF_SCRIPT)} {text}", facts
    raise ValueError(kind)


@dataclass
class TurnRecord:
    """One request and its answer (``code`` -1: the request itself failed).

    ``asked`` is the state whose question the caller was answering; ``sent``/``received`` are
    ``time.perf_counter()`` readings that order turns across concurrent calls (booking ledger).
    """

    text: str
    kind: str
    code: int
    asked: str = ""
    facts: dict = field(default_factory=dict)
    sent: float = 0.0
    received: float = 0.0
    state: str = ""
    reply: str = ""
    done: bool = False
    slots: dict = field(default_factory=dict)


@dataclass
class CallRecord:
    index: int
    seed: str
    persona: str
    session_id: str
    turns: list[TurnRecord] = field(default_factory=list)
    session: dict | None = None
    lead_row: list[str] | None = None
    wall_s: float = 0.0
    body: dict = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return bool(self.turns) and self.turns[-1].done

    @property
    def caller_turns(self) -> int:
        return max(0, len(self.turns) - 1)

    @property
    def status(self) -> str:
        slots = (self.session or {}).get("slots") or {}
        return str(slots.get("status") or ("unfinished" if not self.done else "none"))


def post_turn(client: httpx.Client, session_id: str, turn: TurnRecord) -> TurnRecord:
    """Send ``turn.text`` to ``POST /dialog`` and fill the turn with the answer (or the error)."""
    turn.sent = time.perf_counter()
    try:
        response = client.post("/dialog", json={"session_id": session_id, "text": turn.text})
    except httpx.HTTPError as exc:
        turn.reply = f"{type(exc).__name__}: {exc}"
        return turn
    finally:
        turn.received = time.perf_counter()
    turn.code = response.status_code
    if response.status_code == 200:
        body = response.json()
        turn.state, turn.reply, turn.done, turn.slots = body["state"], body["reply"], body["done"], body["slots"]
    else:
        turn.reply = response.text[:500]
    return turn


class Caller:
    """A fuzzed caller: persona, seeded dice, and the HTTP client it talks through."""

    def __init__(self, client: httpx.Client, index: int, seed: str) -> None:
        self.client = client
        self.rng = random.Random(f"{seed}:{index}")
        names = list(PERSONA_WEIGHTS)
        self.persona = self.rng.choices(names, weights=[PERSONA_WEIGHTS[n] for n in names])[0]
        weights = PERSONAS[self.persona]
        self.kinds = list(weights)
        self.weights = [weights[k] for k in self.kinds]
        self.me = pools.caller_body(self.rng)
        self.record = CallRecord(index, seed, self.persona, f"fuzz-{seed}-{index}", body=self.me)

    def pick(self, state: str) -> tuple[str, str, dict]:
        kind = self.rng.choices(self.kinds, weights=self.weights)[0]
        if kind == "agree" and state in NEEDS_FACTS and self.rng.random() < 0.7:
            kind = "answer"  # even an agreeable caller names their phone when asked
        return (kind, *utterance(kind, state, self.rng, self.me))

    def say(self, text: str, kind: str, asked: str = "", facts: dict | None = None) -> TurnRecord:
        turn = TurnRecord(text=text, kind=kind, code=-1, asked=asked, facts=facts or {})
        self.record.turns.append(turn)
        return post_turn(self.client, self.record.session_id, turn)

    def play(self, max_turns: int = MAX_CALLER_TURNS) -> CallRecord:
        started = time.perf_counter()
        last = self.say("", "start")
        for _ in range(max_turns):
            if last.done or last.code != 200:
                break
            kind, text, facts = self.pick(last.state)
            last = self.say(text, kind, last.state, facts)
        response = self.client.get(f"/session/{self.record.session_id}")
        if response.status_code == 200:
            self.record.session = response.json()
        self.record.wall_s = time.perf_counter() - started
        return self.record


def replay(base_url: str, lines: list[str], session_id: str = "fuzz-replay") -> CallRecord:
    """Play one scripted call (a transcript's ``replay`` list) and record it as a fuzzed call is."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        caller = Caller(client, 0, "replay")
        caller.record.session_id = session_id
        caller.record.persona = "scripted"
        last = caller.say("", "start")
        for text in lines:
            if last.done or last.code != 200:
                break
            last = caller.say(text, "scripted", last.state)
        response = client.get(f"/session/{session_id}")
        caller.record.session = response.json() if response.status_code == 200 else None
    return caller.record


def play_calls(
    base_url: str,
    count: int,
    seed: str,
    workers: int = 8,
    lead_row: Callable[[str], list[str] | None] | None = None,
    first_index: int = 0,
) -> list[CallRecord]:
    """Play ``count`` fuzzed calls with ``workers`` concurrent callers; leads looked up once all ended."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=60)
            with lock:
                clients.append(local.client)
        return local.client

    def one(index: int) -> CallRecord:
        return Caller(client(), index, seed).play()

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            records = list(pool.map(one, range(first_index, first_index + count)))
    finally:
        for c in clients:
            c.close()
    if lead_row is not None:
        for rec in records:
            rec.lead_row = lead_row(rec.session_id)
    return records


def new_seed() -> str:
    return str(random.SystemRandom().randrange(10**9))
