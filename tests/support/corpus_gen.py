"""Writes the labelled corpus (tests/dialog/corpus/{dev,test}.yaml) from the phrasings, seeded.

    .venv/bin/python -m tests.support.corpus_gen        # rewrites both files; same seed, same files

Why generated: 700 answers typed by hand drift in their labels; here every label comes from the
same value the text was spelled from (a phone number, an age, a name). Why committed: the YAML
is what a reader reviews and what the benchmark and the test read, one answer per line.

The split: within every group of same-label phrasings, and within every class's frames, items
are ordered by a SHA-1 of their text and dealt alternately to dev and test; names, fillers and
offered-time wordings are dealt the same way, and phone numbers come from a per-split seed. So
the two splits share labels and failure classes but never a phrasing, and tuning the extractor
on dev measures itself honestly on test.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import corpus_phrases as p1
from tests.support import corpus_phrases2 as p2
from tests.support.corpus_words import bend, group_words, ordinal_gen, whisper_case, words

OUT = Path(__file__).resolve().parents[1] / "dialog" / "corpus"
NOW = "2026-12-03T10:00:00+03:00"
SEED = 9
PER_SPLIT = 40  # entries per class and split
SPLITS = ("dev", "test")
_PLACEHOLDER = "\x00"


def _h(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def deal(items: list, key=lambda x: x if isinstance(x, str) else x[0], offset: int = 0) -> dict[str, list]:
    """Items ordered by hash, dealt alternately to dev and test (``offset`` rotates who starts)."""
    ordered = sorted(items, key=lambda x: _h(str(key(x))))
    out: dict[str, list] = {"dev": [], "test": []}
    for i, item in enumerate(ordered):
        out[SPLITS[(i + offset) % 2]].append(item)
    return out


@dataclass
class ClassSpec:
    name: str
    states: tuple[str, ...]
    frames: tuple[str, ...]
    groups: list[list[tuple]]
    values: Any = None  # (rng, split) -> placeholder values
    extra: dict[str, Any] = field(default_factory=dict)


# -- per-entry values ----------------------------------------------------------------------------------
_FEMALE, _MALE = deal(list(p1.FEMALE)), deal(list(p1.MALE), offset=1)
_PATR, _SUR = deal(list(p1.PATRONYMICS)), deal(list(p1.SURNAMES), offset=1)
_FILLERS = deal(list(p1.FILLERS))


def _name_values(rng: random.Random, split: str) -> dict[str, str]:
    female = rng.random() < 0.55
    first = rng.choice((_FEMALE if female else _MALE)[split])
    patr = rng.choice(_PATR[split])[1 if female else 0]
    sur = rng.choice(_SUR[split])[1 if female else 0]
    word, gender = rng.choice(p1.WORD_NAMES[split])
    wpatr = rng.choice(_PATR[split])[1 if gender == "f" else 0]
    return {"n": first.lower().replace("ё", "е"), "N": first, "p": patr.lower(), "P": patr,
            "s": sur.lower().replace("ё", "е"), "S": sur, "w": word.lower(), "W": word, "wp": wpatr.lower(),
            "WP": wpatr}


def _phone_values(rng: random.Random, split: str) -> dict[str, str]:
    operator = rng.choice(("916", "903", "926", "985", "965", "999", "912", "905", "977", "915"))
    g2, g3, g4 = f"{rng.randint(100, 999)}", f"{rng.randint(0, 99):02d}", f"{rng.randint(10, 99)}"
    wrong = f"{rng.randint(100, 999)}"
    while wrong == g2:
        wrong = f"{rng.randint(100, 999)}"
    digits = operator + g2 + g3 + g4
    return {"P": "+7" + digits, "PW": "+7" + operator + wrong + g3 + g4, "g1": operator, "g2": g2, "g3": g3,
            "g4": g4, "cg2": wrong, "w1": group_words(operator), "w2": group_words(g2), "w3": group_words(g3),
            "w4": group_words(g4), "cw2": group_words(wrong), "dd": " ".join(words(int(d)) for d in digits)}


def _age_values(rng: random.Random, split: str) -> dict[str, str]:
    age, age2 = rng.randint(18, 88), rng.randint(18, 88)
    weight, weight2 = rng.randint(45, 150), rng.randint(45, 150)
    year = rng.randint(1940, 1999)
    now_year = int(NOW[:4])
    return {"aw": words(age), "A": str(age), "aw2": words(age2), "A2": str(age2), "ww": words(weight), "W": str(weight),
            "ww2": words(weight2), "W2": str(weight2), "yw": ordinal_gen(year % 100), "Y": str(year),
            "YA": str(now_year - year - 1), "YB": str(now_year - year)}


_OFFER_WORDS = {key: {t: deal(list(offer[t])) for t in ("t0", "t1", "t2")} for key, offer in p1.OFFERS.items()}


def _choice_values(rng: random.Random, split: str) -> dict[str, Any]:
    key = rng.choice(sorted(p1.OFFERS))
    offer = p1.OFFERS[key]
    out: dict[str, Any] = {t: rng.choice(_OFFER_WORDS[key][t][split]) for t in ("t0", "t1", "t2")}
    out["_offered"] = list(offer["times"])
    return out


SPECS = [
    ClassSpec("name", ("ASK_CLIENT_NAME",), p1.NAME_FRAMES, [[(t, {"client_name": e}) for t, e in g]
                                                          for g in p1.NAME_GROUPS], _name_values),
    ClassSpec("name", ("GREETING",), ("{x}",), [[(t, {"client_name": e}) for t, e in g] for g in p1.GREETING_NAME],
              _name_values, {"share": 0.1}),
    ClassSpec("phone", ("ASK_PHONE",), p1.PHONE_FRAMES, [[(t, {"phone": e}) for t, e in g] for g in p1.PHONE_GROUPS],
              _phone_values),
    ClassSpec("phone", ("ASK_PHONE", "CONFIRM_APPOINTMENT"), ("{x}", "{f} {x}"),
              [[(t, {"phone": e}) for t, e in g] for g in p1.PHONE_FIX_GROUPS], _phone_values,
              {"share": 0.15, "prior": {"phone": "{PW}"}}),
    ClassSpec("date", ("ASK_APPOINTMENT_DATE",), p1.DATE_FRAMES, [list(g) for g in p1.DATE_GROUPS]),
    ClassSpec("time_choice", ("OFFER_APPOINTMENT_TIMES",), p1.CHOICE_FRAMES,
              [[(t, {"time": e}) for t, e in g] for g in p1.CHOICE_GROUPS], _choice_values),
    ClassSpec("duration", ("ASK_SYMPTOMS_DURATION",), p1.DURATION_FRAMES,
              [[(t, {"symptoms_duration": e}) for t, e in g] for g in p1.DURATION_GROUPS]),
    ClassSpec("age_weight", ("ASK_AGE_WEIGHT",), p2.AGE_FRAMES, [list(g) for g in p2.AGE_GROUPS], _age_values),
    ClassSpec("yes_no", (), p2.YES_NO_FRAMES, [[(t, {"answer": a}, s) for t, a, s in g] for g in p2.YES_NO_GROUPS]),
    ClassSpec("contraindication", ("CHECK_CONTRAINDICATIONS",), p2.CONTRA_FRAMES,
              [[(t, {"contraindications": c} | ({"answer": a} if a else {})) for t, c, a in g]
               for g in p2.CONTRA_GROUPS]),
    ClassSpec("off_script", p1.OFF_STATES, p2.OFF_FRAMES,
              [[(t, {"faq": f, "answer": a, "human": h} | ({"also": al} if al else {})) for t, f, al, a, h in g]
               for g in p2.OFF_GROUPS]),
]

_INT_KEYS = ("age", "weight")


def _fill(value: Any, vals: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**vals) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, vals) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, vals) for k, v in value.items()}
    return value


def _typed(expect: dict[str, Any], vals: dict[str, Any]) -> dict[str, Any]:
    out = _fill(expect, vals)
    for key in _INT_KEYS:
        if key in out:
            out[key] = [int(v) for v in out[key]] if isinstance(out[key], list) else int(out[key])
    if isinstance(out.get("time"), str) and out["time"].startswith("@"):
        out["time"] = vals["_offered"][int(out["time"][1:])][11:16]
    return out


def _render(frame: str, item_text: str, filler: str, rng: random.Random, vals: dict[str, Any]) -> str:
    shell = bend(frame.replace("{x}", _PLACEHOLDER).replace("{f}", filler), rng)
    text = shell.replace(_PLACEHOLDER, item_text.format(**vals))
    return re.sub(r"\s+", " ", text).strip()


def generate(spec: ClassSpec, split: str, count: int, seen: set[str]) -> list[dict[str, Any]]:
    rng = random.Random(f"{SEED}-{spec.name}-{spec.states}-{split}")
    frames = deal(list(spec.frames))[split] or list(spec.frames)
    items = [it for gi, g in enumerate(spec.groups) for it in deal(g, offset=gi)[split]]
    out: list[dict[str, Any]] = []
    for _ in range(count * 40):
        if len(out) >= count:
            break
        item = rng.choice(items)
        vals = spec.values(rng, split) if spec.values else {}
        text = _render(rng.choice(frames), item[0], rng.choice(_FILLERS[split]), rng, vals)
        question = spec.name == "off_script"
        if rng.random() < 0.12:
            text = whisper_case(text, question)
        if text in seen:
            continue
        seen.add(text)
        states = item[2] if len(item) > 2 else spec.states
        entry: dict[str, Any] = {"class": spec.name, "state": rng.choice(states), "text": text,
                                 "expect": _typed(item[1], vals)}
        if "prior" in spec.extra:
            entry["prior"] = _fill(spec.extra["prior"], vals)
        if "_offered" in vals:
            entry["offered"] = vals["_offered"]
        out.append(entry)
    return out


def build() -> dict[str, list[dict[str, Any]]]:
    seen: set[str] = set()
    corpus: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for split in SPLITS:
        for spec in SPECS:
            share = spec.extra.get("share")
            count = round(PER_SPLIT * share) if share else PER_SPLIT
            if share is None and any(s.name == spec.name and s.extra.get("share") for s in SPECS):
                count = PER_SPLIT - sum(round(PER_SPLIT * s.extra["share"]) for s in SPECS
                                        if s.name == spec.name and s.extra.get("share"))
            corpus[split].extend(generate(spec, split, count, seen))
    for split, entries in corpus.items():
        counters: dict[str, int] = {}
        for e in entries:
            counters[e["class"]] = counters.get(e["class"], 0) + 1
            e["id"] = f"{e['class']}-{split}-{counters[e['class']]:03d}"
    return corpus


HEADER = """# Labelled caller answers (issue 9), {split} split: {n} entries. Generated by tests/support/corpus_gen.py
# (seeded; edit the phrasings there, not here). Clock frozen at {now} (Thursday).
# Each line: id, class, state (the question just asked), text (as ASR writes it), expect (only what
# the answer determines; a list = any of these), optional prior (slots already known) and offered
# (times the agent just offered). expect keys: client_name, phone, day, part_of_day, at, time (the
# offered time chosen, null = none), symptoms_duration, age, weight, answer (yes/no), contraindications,
# faq (+ also: ids that may be answered too), human (the caller asked for a person).
now: "{now}"
entries:
"""


def write(corpus: dict[str, list[dict[str, Any]]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    order = ("id", "class", "state", "text", "expect", "prior", "offered")
    for split, entries in corpus.items():
        lines = [HEADER.format(split=split, n=len(entries), now=NOW)]
        for e in entries:
            ordered = {k: e[k] for k in order if k in e}
            lines.append("  - " + json.dumps(ordered, ensure_ascii=False) + "\n")
        (OUT / f"{split}.yaml").write_text("".join(lines), "utf-8")


if __name__ == "__main__":
    built = build()
    write(built)
    print({s: len(v) for s, v in built.items()})
