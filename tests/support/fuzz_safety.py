"""Safety as the caller told it: what a booked study must respect whatever the engine understood.

``fuzz_checks._safety`` reads the engine's own slots (a contraindication it recorded, the weight it
stored). That cannot catch the worst case, an engine that misheard: a caller who said "у меня
кардиостимулятор" or "вешу сто пятьдесят" in clear words and still got an MRI. The fuzzer knows
what each clean answer stated (``TurnRecord.facts``, set only for turns whose words reach the
engine intact), so these checks hold the booking against the caller's words.
"""

from __future__ import annotations

import re

from .fuzz import CallRecord

NEGATION = re.compile(r"\b(нет|нету|ничего|не)\b")
GLUED_NO = re.compile(r"нет|нету|ничего")
NOT_A_NO = re.compile(r"\bне (знаю|помню|уверена?|скажу|расслышала?)\b")
SAFETY_STATE = "CHECK_CONTRAINDICATIONS"


def _says_no(text: str) -> bool:
    """A no in the words, or in the words glued back together (ASR splits "ничего" into "ниче го")."""
    text = NOT_A_NO.sub(" ", text.lower())
    return bool(NEGATION.search(text) or GLUED_NO.search(text.replace(" ", "")))


def _booked_study(rec: CallRecord, profile):
    slots = (rec.session or {}).get("slots") or {}
    if slots.get("status") != "booked":
        return None
    return profile.studies_by_id.get(slots.get("study_id") or "")


def heard_safety(rec: CallRecord, profile) -> list:
    """Violations of a booking against the weight and contraindications the caller stated."""
    from .fuzz_checks import Violation

    study = _booked_study(rec, profile)
    if study is None:
        return []
    out = []
    said = [t for t in rec.turns if t.kind != "start"]
    weights = [t.facts["weight"] for t in said if "weight" in t.facts]
    limit = profile.mri_table_weight_limit_kg
    if study.modality == "mri" and weights and weights[-1] > limit:
        out.append(Violation("unsafe_booking_heard", rec.index,
                             f"{study.id} booked, the caller said {weights[-1]} kg (table limit {limit})"))
    for turn in said:
        cid = turn.facts.get("contra")
        item = profile.contraindication(cid) if cid not in (None, "no", "unknown") else None
        if item is not None and study.modality in item.applies_to:
            out.append(Violation("unsafe_booking_heard", rec.index,
                                 f"{study.id} booked, the caller said {turn.text!r} ({cid}) at {turn.asked}"))
    if study.modality == "mri":
        answers = [t for t in rec.turns if t.asked == SAFETY_STATE]
        if not answers:
            out.append(Violation("safety_not_asked", rec.index, f"{study.id} booked, {SAFETY_STATE} never asked"))
        elif not any(_says_no(t.text) for t in answers):
            out.append(Violation("safety_unresolved", rec.index,
                                 f"{study.id} booked, the caller never said no to the safety question: "
                                 f"{[t.text for t in answers]!r}"))
    return out
