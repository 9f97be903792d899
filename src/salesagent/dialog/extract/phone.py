"""Phone numbers as callers dictate them: in any grouping, with fillers, pauses and corrections.

After :func:`numbers.words_to_digits` a dictated number is a run of digit groups ("8 916 123 45
67"); typed ones arrive as "8 916 123-45-67" or "+7 (916) ...". A run is joined and accepted as a
Russian number when it has 11 digits starting with 7/8, or 10 starting with 9 (the caller dropped
the trunk prefix); phonenumbers checks the result is a possible RU number. On the way:

* a filler or a pause splits a group that words2num2 would have read whole ("девятьсот э-э
  шестнадцать" -> "900", "16"): across a filler, a round group followed by a shorter one may be
  one group (900 + 16 -> 916). The reading with the fewest such joins that makes a valid number
  wins, so a number dictated cleanly is taken as words2num2 grouped it;
* "не 123 а 132" (inside or after the dictation) replaces that group; "123, нет, 132" / "то есть"
  / "ой" before a group of the same length replaces the group just said; a fresh full number after
  "нет" replaces the whole run;
* with ``dictation`` (the agent asked for the phone) digits that can only be the beginning of a
  number come back as ``partial``, to be completed by the next turn (:func:`extract_phone` with
  ``so_far``): a caller who pauses for a whole turn mid-number loses nothing;
* ``so_far`` may also be the stored number: "не семьсот пятьдесят семь, а пятьсот семьдесят
  девять" then corrects it in place and comes back as a full ``phone``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations, product

from salesagent.dialog.extract.phone_numbers import is_prefix, to_e164
from salesagent.dialog.extract.text import Utterance

# Words a caller says between digit groups without ending the number.
_GLUE = frozenset({"э", "ээ", "эээ", "эм", "м", "мм", "ну", "так", "значит", "вот", "и", "тире", "дефис", "это",
                   "там", "дальше", "далее", "потом", "записываете", "записали", "пишите"})
# Words that take back the group just said: "сто двадцать три, нет, сто тридцать два".
_TAKE_BACK = frozenset({"нет", "ой", "ошибся", "ошиблась", "ошибка", "вернее", "точнее", "извините", "простите",
                        "подождите", "стоп", "поправка", "неправильно", "смысле"})
# Cues that the digits that follow are the end of the number: "последние цифры 68".
_TAIL_CUES = frozenset({"последний", "конец", "заканчиваться", "окончание", "концовка"})
# Words that say the digits are the phone, outside the phone question.
_PHONE_CUES = frozenset({"номер", "телефон", "цифра", "мобильный", "сотовый"})  # lemmas
_HUNDRED_PAUSE = re.compile(r"(?<![а-я])(?:сто|двести|триста|четыреста|[а-я]+сот)\s*(?:,|\.\.\.|…|-|—)")
MAX_JOINS = 6  # filler junctions tried as one group (2**6 readings at most)


@dataclass(frozen=True)
class PhoneResult:
    phone: str | None
    tail: str | None
    claimed: frozenset[int]
    partial: str | None = field(default=None)  # digits of a number begun but not finished (dictation only)
    corrected: bool = field(default=False)  # ``phone`` is ``so_far`` with one group replaced


@dataclass
class _Run:
    """A dictated stretch: its digit groups and, per group, whether a filler came before it."""

    start: int
    end: int = 0
    plus: bool = False
    groups: list[str] = field(default_factory=list)
    soft: list[bool] = field(default_factory=list)
    restart: int | None = None  # index of the first group after a take-back word
    pause_split: bool = False  # "сто, двадцать три": a pause after a hundred may end a group
    singles_last: bool = False  # the last group was said digit by digit


def _fix_at(toks: list[str], i: int) -> tuple[list[str], list[str], int] | None:
    """"не 123 а 132" at ``i`` -> (["123"], ["132"], index after); None when that is not there."""
    if toks[i] != "не":
        return None
    j = i + 1
    old: list[str] = []
    while j < len(toks) and toks[j].isdigit():
        old.append(toks[j])
        j += 1
    if not old or j >= len(toks) or toks[j] != "а":
        return None
    j += 1
    new: list[str] = []
    while j < len(toks) and toks[j].isdigit():
        new.append(toks[j])
        j += 1
    return (old, new, j) if new else None


def _replace_groups(groups: list[str], old: list[str], new: list[str]) -> list[str] | None:
    """``groups`` with the last run of groups spelling ``old`` replaced by ``new``; else the digits
    replaced inside a group (single digits arrive joined: "1234567"); None when ``old`` is not there."""
    n = len(old)
    for k in range(len(groups) - n, -1, -1):
        if groups[k : k + n] == old:
            return groups[:k] + new + groups[k + n :]
    joined, target = "".join(groups), "".join(old)
    at = joined.rfind(target)
    if at < 0:
        return None
    return [joined[:at] + "".join(new) + joined[at + len(target) :]]


def _group_at(toks: list[str], j: int) -> tuple[str, int, bool]:
    """The digit group starting at token ``j``: (digits, index after, said digit by digit).

    Digits said one by one ("три ноль") are one group, and so is a "ноль" with the number after
    it ("ноль двадцать два" -> "022"), however words2num2 split them."""
    group, j = toks[j], j + 1
    singles = len(group) == 1
    while j < len(toks) and toks[j].isdigit():
        nxt = toks[j]
        leads_next = set(nxt) == {"0"} and j + 1 < len(toks) and toks[j + 1].isdigit() and len(toks[j + 1]) > 1
        if set(group) == {"0"} or (singles and len(nxt) == 1 and not leads_next):
            group, j = group + nxt, j + 1
            singles = singles and len(nxt) == 1
        else:
            break
    # words2num2 joins digits said one by one into one token: a group of four or more is that
    return group, j, (singles and len(group) > 1) or len(group) > 3


def _take_back(run: _Run, toks: list[str], j: int) -> int:
    """Digits right after "нет" / "то есть" replace the last group: as many digits as it had (the
    rest goes on), or the last digits of a group said digit by digit ("6 4 0 1, ой, 3 1").
    Returns the index after the digits used."""
    last = run.groups[-1] if run.groups else ""
    group, j, singles = _group_at(toks, j)
    while len(group) < len(last) and not run.singles_last and j < len(toks) and toks[j].isdigit():
        more, j, _ = _group_at(toks, j)
        group += more
    if not last or run.restart is not None:
        run.restart = len(run.groups) if run.restart is None else run.restart
        run.groups.append(group)
        run.soft.append(False)
        return j
    run.restart = len(run.groups) - 1
    if len(group) < len(last) and run.singles_last:
        run.groups[-1] = last[: len(last) - len(group)] + group
    elif len(group) <= len(last):
        run.groups[-1] = group
    else:
        run.groups[-1] = group[: len(last)]
        run.groups.append(group[len(last) :])
        run.soft.append(False)
    run.singles_last = singles
    return j


def _scan(toks: list[str], i: int, seed: list[str] | None) -> _Run:
    """The run that starts at token ``i`` (a digit or "плюс 7"), fixes applied as they come."""
    run = _Run(start=i, plus=toks[i] == "плюс")
    if seed:
        run.groups, run.soft = list(seed), [False] * len(seed)
    j = i + 1 if run.plus else i
    pending_soft = bool(seed)  # a turn boundary is a pause
    taking_back = False
    run.end = j
    while j < len(toks):
        tok = toks[j]
        fix = _fix_at(toks, j)
        if fix is not None:
            replaced = _replace_groups(run.groups, fix[0], fix[1])
            if replaced is None:
                break
            run.groups = replaced
            run.soft = (run.soft + [False] * len(replaced))[: len(replaced)]
            j = run.end = fix[2]
            taking_back = False  # "нет, не 89 а 71": the fix was the take-back
            continue
        if tok.isdigit():
            if taking_back:
                j = _take_back(run, toks, j)
            else:
                group, j, run.singles_last = _group_at(toks, j)
                run.groups.append(group)
                run.soft.append(pending_soft)
            pending_soft = taking_back = False
            run.end = j
        elif tok in _TAKE_BACK or (tok == "то" and j + 1 < len(toks) and toks[j + 1] == "есть"):
            taking_back = True
            j += 2 if tok == "то" else 1
        elif tok in _GLUE:
            pending_soft = True
            j += 1
        else:
            break
    return run


def _join(groups: list[str], joins: set[int]) -> list[str]:
    parts: list[str] = []
    for k, g in enumerate(groups):
        prev = parts[-1] if parts else ""
        if k in joins and prev and prev[0] != "0" and len(g) < len(prev) and prev.endswith("0" * len(g)):
            parts[-1] = prev[: len(prev) - len(g)] + g
        else:
            parts.append(g)
    return parts


def _split(group: str) -> list[str] | None:
    """"123" -> ["100", "23"]: "сто, двадцать три" said as two groups, which words2num2 joins."""
    if len(group) == 3 and group[0] != "0" and group[1] != "0":
        return [group[0] + "00", group[1:]]
    return None


def _readings(groups: list[str], soft: list[bool], splits: bool = False) -> list[tuple[int, list[str]]]:
    """(edits, groups) the words can spell: as words2num2 grouped them, with groups joined across a
    filler ("900", "16" -> "916"), or (``splits``: a pause was written after a hundred) split where
    words2num2 joined two ("сто, двадцать три" -> "100", "23"). Without that pause a number short
    of digits stays short: a dropped group or a turn cut mid-number is far likelier."""
    joinable = [k for k in range(1, len(groups)) if soft[k]][:MAX_JOINS]
    out: list[tuple[int, list[str]]] = []
    for mask in product((False, True), repeat=len(joinable)):
        joins = {k for k, on in zip(joinable, mask, strict=True) if on}
        out.append((len(joins), _join(groups, joins)))
    splittable = [k for k, g in enumerate(groups) if splits and _split(g)][:MAX_JOINS]
    for n in (1, 2):
        for picked in combinations(splittable, n):
            split = [part for k, g in enumerate(groups) for part in (_split(g) if k in picked else [g])]
            out.append((n, split))
    out.sort(key=lambda t: t[0])
    return out


def _standard(groups: list[str]) -> bool:
    """Groups on the usual boundaries of "8 916 123 45 67" (3-3-2-2, 3-3-4, 3-7, 10)."""
    digits = sum(len(g) for g in groups)
    pos = -(digits - 10)  # the trunk digit, when said, stands before the national number
    for g in groups:
        pos += len(g)
        if pos > 0 and pos not in (3, 6, 8, 10):
            return False
    return True


def _full(run: _Run) -> str | None:
    best = _best_full(run)
    return best[0] if best else None


def _cut_short(run: _Run, best: tuple[str, bool]) -> bool:
    """``best`` (the run's full reading) is only in an unusual grouping ("восемь девятьсот,
    пятнадцать, семьсот, сорок пять" as 8 900 15 700 45) while joining the groups Whisper's commas
    split gives the usual grouping of a number begun (8 915 745): the caller paused mid-dictation."""
    if best[1]:
        return False
    for _edits, reading in _readings(run.groups, run.soft):
        if is_prefix("".join(reading), run.plus) and _standard_start(reading):
            return True
    return False


def _standard_start(groups: list[str]) -> bool:
    """The groups of a number begun, on the usual boundaries (trunk "8"/"7" said alone first)."""
    national = groups[1:] if groups and groups[0] in ("7", "8") else groups
    pos = 0
    for g in national:
        pos += len(g)
        if pos not in (3, 6, 8):
            return False
    return bool(national)


def _best_full(run: _Run) -> tuple[str, bool] | None:
    """The one number the run spells with the fewest edits (usual grouping first) and whether its
    grouping is the usual one; None when two readings of the same cost disagree: the agent asks
    again rather than store a guess."""
    candidates = [(run.groups, run.soft)]
    if run.restart is not None:  # "..., нет, 8 916 132 45 67": the number said again
        candidates.append((run.groups[run.restart :], run.soft[run.restart :]))
    for groups, soft in candidates:
        valid: list[tuple[int, bool, str]] = []
        for edits, reading in _readings(groups, soft, run.pause_split):
            phone = to_e164("".join(reading), run.plus)
            if phone:
                valid.append((edits, not _standard(reading), phone))
        if valid:
            valid.sort()
            best = [v for v in valid if v[:2] == valid[0][:2]]
            return (best[0][2], not best[0][1]) if len({v[2] for v in best}) == 1 else None
    return None


def _partial(run: _Run) -> str | None:
    for _, reading in _readings(run.groups, run.soft):
        digits = "".join(reading)
        if is_prefix(digits, run.plus):
            return digits
    return None


def _runs(utt: Utterance, seed: list[str] | None) -> list[_Run]:
    toks = utt.tokens
    runs: list[_Run] = []
    i = 0
    while i < len(toks):
        plus = toks[i] == "плюс" and i + 1 < len(toks) and toks[i + 1].isdigit()
        fixes_seed = bool(seed) and not runs and _fix_at(toks, i) is not None  # "не 123 а 132 45 67"
        if plus or fixes_seed or toks[i].isdigit():
            run = _scan(toks, i, seed if not runs else None)
            run.pause_split = bool(_HUNDRED_PAUSE.search(utt.raw.lower()))
            runs.append(run)
            i = max(run.end, i + 1)
        else:
            i += 1
    return runs


def _correct_stored(phone: str, old: str, new: str) -> str | None:
    """The stored number with ``old`` replaced by ``new``: a whole group of "+7 916 123 45 67"
    first, else the only place ``old`` occurs."""
    national = phone[2:]
    for a, b in ((0, 3), (3, 6), (6, 8), (8, 10)):
        if national[a:b] == old and len(new) == len(old):
            return to_e164(national[:a] + new + national[b:])
    if national.count(old) == 1 and len(new) == len(old):
        at = national.index(old)
        return to_e164(national[:at] + new + national[at + len(old) :])
    return None


def _stored_fix(utt: Utterance, phone: str, dictation: bool) -> PhoneResult | None:
    """"не 757 а 579" about the stored number. Two digits only where the phone is the topic
    (asked, or "номер" / "цифры" said): "не 80 а 77" elsewhere is a weight."""
    toks = utt.tokens
    topic = dictation or any(lem in _PHONE_CUES for lem in utt.lemmas)
    for i in range(len(toks)):
        fix = _fix_at(toks, i)
        if fix is None:
            continue
        old, new = "".join(fix[0]), "".join(fix[1])
        if len(old) < 2 or (len(old) < 3 and not topic):
            continue
        fixed = _correct_stored(phone, old, new)
        if fixed is not None:
            return PhoneResult(fixed, None, frozenset(range(i, fix[2])), corrected=True)
    return None


def _tail(utt: Utterance, runs: list[_Run]) -> PhoneResult | None:
    cue_at = next((i for i, lem in enumerate(utt.lemmas) if lem in _TAIL_CUES), None)
    if cue_at is None:
        return None
    after = [r for r in runs if r.start > cue_at and 1 <= len("".join(r.groups)) <= 7]
    if not after:
        return None
    run = after[-1]  # "не шестьдесят семь а шестьдесят восемь": the last group is the fix
    return PhoneResult(None, "".join(run.groups), frozenset(range(run.start, run.end)))


def extract_phone(utt: Utterance, dictation: bool = False, so_far: str | None = None) -> PhoneResult:
    """The phone in ``utt``.

    ``dictation``: the agent asked for the phone, so digits that only begin a number are kept as
    ``partial``. ``so_far``: the partial digits of the previous turn (they are continued, with
    a pause between) or the stored E.164 number (a "не X а Y" corrects it).
    """
    stored = so_far if so_far and so_far.startswith("+") else None
    seed = [so_far] if dictation and so_far and not stored and so_far.isdigit() else None
    runs = _runs(utt, seed)
    for run in runs:
        best = _best_full(run)
        if best and dictation and not seed and _cut_short(run, best):
            break  # kept as partial below: the rest of the number comes next turn
        if best:
            return PhoneResult(best[0], None, frozenset(range(run.start, run.end)))
    if seed:  # the new digits alone: the caller started again instead of going on
        for run in _runs(utt, None):
            phone = _full(run)
            if phone:
                return PhoneResult(phone, None, frozenset(range(run.start, run.end)))
    if stored:
        fixed = _stored_fix(utt, stored, dictation)
        if fixed is not None:
            return fixed
    tail = _tail(utt, runs)
    if tail is not None:
        return tail
    if dictation and runs:
        return _partial_result(utt, runs, seed)
    return PhoneResult(None, None, frozenset())


def _partial_result(utt: Utterance, runs: list[_Run], seed: list[str] | None) -> PhoneResult:
    run = runs[0]
    partial = _partial(run)
    if partial is None and seed:  # too long together: the new digits may begin a fresh number
        fresh = _runs(utt, None)
        run = fresh[0] if fresh else run
        partial = _partial(run) if fresh else None
    if partial is None or partial == (seed or [None])[0]:
        return PhoneResult(None, None, frozenset())
    return PhoneResult(None, None, frozenset(range(run.start, run.end)), partial=partial)
