"""Whisper's initial prompt from the clinic profile: the words callers will say (МРТ, КТ, ...).

Whisper base hears "МРТ" as "им прот" without context; a prompt listing the clinic's terms biases
the decoder toward them. The words come from the profile (data), never from code.
"""

from __future__ import annotations

import re

from salesagent.clinic.profile import ClinicProfile


def vocabulary_prompt(profile: ClinicProfile, max_chars: int = 300) -> str:
    """The profile's ``asr_prompt`` (cut at a sentence, then a word boundary), or else the
    comma-separated clinic terms, most important first, cut at a term boundary."""
    if profile.asr_prompt:
        return _cut(profile.asr_prompt.strip(), max_chars)
    terms: list[str] = []
    length = 0
    for term in profile.vocabulary():
        extra = len(term) + (2 if terms else 0)
        if length + extra > max_chars:
            break
        terms.append(term)
        length += extra
    return (", ".join(terms) + ".") if terms else ""


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    for stop in (". ", "! ", "? "):
        at = head.rfind(stop)
        if at > 0:
            return head[: at + 1]
    at = head.rfind(" ")
    return head[:at].rstrip(",;:") if at > 0 else ""


class QuestionPrompts:
    """Whisper's prompt for the answer to the question just asked, built from the profile.

    A caller's answer is predictable from the question: digits after "your phone", weekdays after
    "which day", "да / нет" after a yes/no question. The fixed clinic prompt pulled answers toward
    its own words ("около месяца" heard as "около МедСкан"); a prompt made of the profile's
    ``asr_prompts`` line for the state that asked, followed by the question itself, biases Whisper
    toward that question's answers only. Hints are rendered once per state; the question varies.
    """

    def __init__(self, profile: ClinicProfile, max_chars: int = 300, fallback_max_chars: int | None = None) -> None:
        self.max_chars = max_chars
        # a question without a hint gets the prompt for any answer, which is longer (stream_prompt_max_chars)
        self.fallback = vocabulary_prompt(profile, fallback_max_chars or max_chars)
        fields = {"study_areas": ", ".join(study_areas(profile)),
                  "contraindications": ", ".join(c.name for c in profile.contraindications)}
        self._hints = {state: _cut(text.format(**fields).strip(), max_chars)
                       for state, text in profile.asr_prompts.items()}

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self._hints)

    def for_question(self, state: str | None, question: str = "") -> str:
        """The hint for ``state`` then the question's last sentence; the clinic prompt if no hint."""
        hint = self._hints.get(state or "")
        if hint is None:
            return self.fallback
        last = last_sentence(question)
        room = self.max_chars - len(hint) - 1
        return f"{hint} {last}" if last and len(last) <= room else hint


def study_areas(profile: ClinicProfile) -> list[str]:
    """What follows the modality in the study names, each once, in order, areas that share their
    ending joined ("шейного, грудного отдела позвоночника"): every area in few prompt tokens."""
    names = {m.name.lower() for m in profile.modalities.values()}
    groups: dict[str, list[str]] = {}
    for study in profile.studies:
        head, _, rest = study.name.partition(" ")
        area = rest if head.lower() in names and rest else study.name
        first, _, tail = area.partition(" ")
        members = groups.setdefault(tail or area, [])
        if (first if tail else "") not in members:
            members.append(first if tail else "")
    return [f"{', '.join(m for m in heads)} {tail}".strip() if any(heads) else tail for tail, heads in groups.items()]


def last_sentence(text: str) -> str:
    """The question a reply ends with: its last sentence (replies state facts, then ask)."""
    text = text.strip()
    if not text:
        return ""
    cut = max(text.rfind(". ", 0, len(text) - 1), text.rfind("! ", 0, len(text) - 1))
    return text[cut + 2:].strip() if cut >= 0 else text


_NAME_WORD = re.compile(r"(?<![.!?]\s)(?<!^)\b([А-ЯЁ][а-яё]+)")


def prompt_names(text: str, prompt: str | None) -> list[str]:
    """The proper names (capitalised words inside a sentence) of ``text`` that the prompt supplied."""
    if not prompt:
        return []
    offered = set(re.findall(r"[А-ЯЁа-яё]+", prompt))
    return [name for name in _NAME_WORD.findall(text.strip()) if name in offered]


def echoes_prompt(text: str, prompt: str | None) -> bool:
    """Whether ``text`` holds a name the prompt supplied. Given a cut phrase ("Меня зовут," and a
    pause) Whisper completes it from its prompt ("Меня зовут Татьяна."): such a name is no evidence
    the caller said it (the engine re-checks it without the prompt; an answer resting on it does
    not end the caller's turn early)."""
    return bool(prompt_names(text, prompt))
