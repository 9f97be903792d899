"""Whole conversations through the HTTP API, on SQLite and on a real Redis.

Assertions are on final slots, status and the state path, never on the wording of replies
(except where a reply must carry a fact from the profile, such as the address).
"""

from __future__ import annotations

from datetime import datetime

import pytest

FRIDAY = "2026-11-27"  # SALESAGENT_NOW is Wednesday 2026-11-25 11:00 Moscow
SATURDAY = "2026-11-28"

COOPERATIVE = {
    "GREETING": "здравствуйте хочу записаться на обследование",
    "ASK_CLIENT_NAME": "меня зовут Ольга",
    "ASK_SYMPTOMS": "болит колено после падения",
    "ASK_SYMPTOMS_DURATION": "уже две недели",
    "ASK_PAIN_CHARACTER": "ноющая боль",
    "ASK_VISITED_DOCTOR": "да была у травматолога",
    "RECOMMEND_STUDY": "да давайте",
    "ASK_STUDY_DECISION": "да",
    "OFFER_VIDEO_CONCLUSION": "нет спасибо",
    "ANNOUNCE_MEDIA_PRICE": "нет не нужно",
    "ASK_APPOINTMENT_DATE": "в пятницу",
    "OFFER_APPOINTMENT_TIMES": "в два часа дня",
    "CONFIRM_TIME": "да",
    "ASK_PHONE": "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
    "ASK_AGE_WEIGHT": "мне сорок пять лет вешу восемьдесят килограмм",
    "CHECK_CONTRAINDICATIONS": "нет ничего такого нет",
    "CHECK_DISCOUNTS": "нет",
    "CONFIRM_APPOINTMENT": "да всё верно",
}


def test_cooperative_caller_books_knee_mri(caller, profile) -> None:
    call = caller("coop-1")
    first = call.start()
    assert first["state"] == "GREETING" and first["reply"]
    final = call.answer_until_done(COOPERATIVE)
    slots = final["slots"]
    assert final["done"] is True and final["state"] == "END"
    assert slots["status"] == "booked"
    assert slots["study_type"] == profile.study("mri_knee").name
    assert slots["price"] == profile.study("mri_knee").price
    assert slots["appointment_datetime"] == f"{FRIDAY}T14:00:00+03:00"
    assert slots["phone"] == "+79161234567"
    assert (slots["client_name"], slots["age"], slots["weight"]) == ("Ольга", 45, 80)
    assert slots["visited_doctor"] is True
    assert slots["video_conclusion"] is False and slots["media"] is False
    session = call.session()
    path = session["path"]
    assert path[0] == "GREETING" and path[-1] == "END"
    # the booking and the phone are read back before the confirmation
    assert path.index("CONFIRM_APPOINTMENT") < path.index("FAREWELL")
    confirm_reply = next(t["text"] for t in session["history"] if t["role"] == "agent" and t["state"] == "CONFIRM_APPOINTMENT")
    assert "916 123-45-67" in confirm_reply and "27 ноября" in confirm_reply
    # provenance: the phone came from the caller's dictation, at the turn it was said
    prov = session["slots"]["provenance"]["phone"]
    assert prov["utterance"] == COOPERATIVE["ASK_PHONE"]
    assert session["history"][2 * prov["turn"] - 1]["text"] == COOPERATIVE["ASK_PHONE"] or prov["turn"] > 0


def test_volunteered_slots_skip_their_questions(caller, profile) -> None:
    call = caller("volunteer-1")
    call.start()
    call.say("я Ольга хочу на мрт колена в пятницу")
    assert call.last["slots"]["client_name"] == "Ольга"
    assert call.last["slots"]["study_type"] == profile.study("mri_knee").name
    answers = dict(COOPERATIVE)
    answers["OFFER_APPOINTMENT_TIMES"] = "давайте в три часа дня"
    final = call.answer_until_done(answers)
    path = call.session()["path"]
    for skipped in ("ASK_CLIENT_NAME", "ASK_STUDY_REQUEST", "RECOMMEND_STUDY", "ASK_APPOINTMENT_DATE"):
        assert skipped not in path, skipped
    assert final["slots"]["appointment_datetime"] == f"{FRIDAY}T15:00:00+03:00"
    assert final["slots"]["status"] == "booked"


@pytest.mark.parametrize(
    ("question", "faq_fact"),
    [
        ("а сколько это стоит", "price"),
        ("а где вы находитесь", "address"),
        ("у вас есть парковка", "parking"),
        ("как подготовиться к исследованию", "preparation"),
        ("подождите а вы робот", "robot"),
    ],
)
def test_off_script_question_is_answered_and_script_resumes(caller, profile, question, faq_fact) -> None:
    call = caller(f"faq-{faq_fact}")
    call.start()
    call.say("меня зовут Ольга")
    call.say("болит колено")
    before = call.last["state"]
    reply = call.say(question)
    assert reply["state"] == before  # back to the same question
    facts = {
        "price": str(min(s.price for s in profile.studies if s.modality == "mri")),
        "address": profile.clinic.address,
        "parking": profile.clinic.parking,
        "preparation": "подготов",
        "robot": "помощник",
    }
    assert facts[faq_fact] in reply["reply"]
    call.say("две недели")
    assert call.last["slots"]["symptoms_duration"]


def test_corrections_replace_the_slot(caller) -> None:
    call = caller("correct-1")
    call.start()
    call.say("я Ольга хочу на мрт колена")
    answers = dict(COOPERATIVE)
    answers["ASK_APPOINTMENT_DATE"] = "в пятницу в два часа дня"
    call.answer_until("CONFIRM_TIME", answers)
    call.say("нет не в пятницу а в субботу")
    assert call.last["state"] in ("OFFER_APPOINTMENT_TIMES", "CONFIRM_TIME")
    for _ in range(30):
        if call.last["state"] == "CONFIRM_APPOINTMENT":
            break
        state = call.last["state"]
        call.say({"OFFER_APPOINTMENT_TIMES": "в два часа дня", "CONFIRM_TIME": "да"}.get(state, answers.get(state, "")))
    assert call.last["slots"]["appointment_datetime"].startswith(SATURDAY)
    call.say("нет последние цифры шестьдесят восемь")
    assert call.last["slots"]["phone"] == "+79161234568"
    assert call.last["state"] == "CONFIRM_APPOINTMENT"
    final = call.say("да")
    assert final["slots"]["status"] == "booked"
    assert final["slots"]["phone"] == "+79161234568"
    assert final["slots"]["appointment_datetime"].startswith(SATURDAY)


def test_not_understood_essential_question_ends_in_callback(caller) -> None:
    call = caller("noise-phone")
    call.start()
    call.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    call.answer_until("ASK_PHONE", answers)
    states = []
    for _ in range(3):
        call.say("ну это самое как его")
        states.append(call.last["state"])
    assert states[:2] == ["ASK_PHONE", "ASK_PHONE"]  # re-asked twice
    assert call.last["done"] and call.last["slots"]["status"] == "callback"


def test_not_understood_optional_question_moves_on(caller) -> None:
    call = caller("noise-pain")
    call.start()
    call.say("меня зовут Ольга")
    call.say("болит колено")
    call.say("две недели")
    assert call.last["state"] == "ASK_PAIN_CHARACTER"
    call.say("ну как сказать")
    call.say("ну такое")
    assert call.last["state"] == "ASK_PAIN_CHARACTER"
    call.say("ну вот")
    assert call.last["state"] != "ASK_PAIN_CHARACTER" and not call.last["done"]


@pytest.mark.parametrize(
    ("utterance", "status"),
    [
        ("нет спасибо я не буду записываться", "declined"),
        ("это дорого не надо", "declined"),
        ("перезвоните мне позже пожалуйста", "callback"),
        ("мне сейчас неудобно говорить", "callback"),
        ("соедините меня с администратором", "transferred"),
    ],
)
def test_refusal_and_callback_end_politely(caller, utterance, status) -> None:
    call = caller(f"stop-{status}-{abs(hash(utterance)) % 1000}")
    call.start()
    call.say("я Ольга хочу на мрт колена")
    reply = call.say(utterance)
    assert reply["done"] is True
    assert reply["slots"]["status"] == status
    assert reply["reply"]


def _book_to_confirm(call, answers) -> None:
    for _ in range(40):
        if call.last["done"] or call.last["state"] == "CONFIRM_APPOINTMENT":
            return
        call.say(answers[call.last["state"]])


@pytest.mark.parametrize(
    "answer", ["да у меня стоит кардиостимулятор", "нет у меня кардиостимулятор", "у меня электрокардиостимулятор"]
)
def test_mri_contraindication_switches_to_ct(caller, profile, answer) -> None:
    call = caller(f"pacemaker-{abs(hash(answer)) % 10000}")
    call.start()
    call.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    answers["CHECK_CONTRAINDICATIONS"] = answer
    _book_to_confirm(call, answers)
    final = call.answer_until_done(answers)
    slots = final["slots"]
    assert slots["status"] == "booked"
    assert slots["study_type"] == profile.study("ct_knee").name
    assert slots["price"] == profile.study("ct_knee").price
    assert "pacemaker" in slots["contraindications"]
    assert not slots["study_type"].startswith("МРТ")


def test_weight_over_table_limit_switches_to_ct(caller, profile) -> None:
    call = caller("heavy")
    call.start()
    call.say("меня зовут Игорь хочу сделать мрт поясницы в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    answers["ASK_AGE_WEIGHT"] = "пятьдесят лет вес сто сорок пять килограмм"
    final = call.answer_until_done(answers)
    assert final["slots"]["weight"] == 145 > profile.mri_table_weight_limit_kg
    assert final["slots"]["study_type"] == profile.study("ct_lumbar_spine").name
    assert final["slots"]["status"] == "booked"


def test_contraindication_for_every_alternative_ends_without_booking(caller) -> None:
    call = caller("pregnant")
    call.start()
    call.say("меня зовут Анна хочу на мрт колена в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    answers["CHECK_CONTRAINDICATIONS"] = "я беременна восемь недель"
    final = call.answer_until_done(answers)
    assert final["slots"]["status"] == "contraindicated"
    assert "appointment_datetime" not in final["slots"]


def test_taken_slot_is_never_booked(caller, profile) -> None:
    taken = profile.schedule.taken_weekly["fri"][2]  # a recurring busy Friday time
    assert taken.hour >= 8
    call = caller("taken-slot")
    call.start()
    hour_words = {10: "в десять утра", 9: "в девять утра", 11: "в одиннадцать утра"}
    call.say(f"я Ольга хочу на мрт колена в пятницу {hour_words[taken.hour]}")
    final = call.answer_until_done(COOPERATIVE)
    booked = datetime.fromisoformat(final["slots"]["appointment_datetime"])
    assert booked.time() != taken
    history = call.session()["history"]
    offers = [t["text"] for t in history if t["role"] == "agent" and t["state"] in ("OFFER_APPOINTMENT_TIMES", "CONFIRM_TIME")]
    assert offers and not any(f"{taken.hour}:{taken.minute:02d}" in text for text in offers)


def test_two_callers_never_get_the_same_slot(caller) -> None:
    first, second = caller("race-a"), caller("race-b")
    for call in (first, second):
        call.start()
        call.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
        _book_to_confirm(call, COOPERATIVE)
    first.say("да")
    second.say("да")
    assert first.last["slots"]["status"] == "booked"
    assert first.last["slots"]["appointment_datetime"] == f"{FRIDAY}T14:00:00+03:00"
    # the second caller is told the time is gone and gets other times
    assert not second.last["done"]
    final = second.answer_until_done({**COOPERATIVE, "OFFER_APPOINTMENT_TIMES": "да давайте самое раннее"})
    assert final["slots"]["appointment_datetime"] != first.last["slots"]["appointment_datetime"]


@pytest.mark.parametrize(
    "dictation",
    [
        "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
        "плюс семь девятьсот шестнадцать сто двадцать три четыре пять шесть семь",
        "89161234567",
        "8 916 123-45-67",
    ],
)
def test_phone_dictations(caller, dictation) -> None:
    call = caller(f"phone-{abs(hash(dictation)) % 10000}")
    call.start()
    call.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    answers["ASK_PHONE"] = dictation
    final = call.answer_until_done(answers)
    assert final["slots"]["phone"] == "+79161234567"


def test_garbled_dictation_is_asked_again_and_keeps_the_booking(caller) -> None:
    """ASR dropped a digit group ("сто двадцать три" heard as "двадцать, три"): the numbers are a
    failed phone, not a new time ("шестнадцать двадцать"); the booking stays, the phone is re-asked."""
    call = caller("phone-garbled")
    call.start()
    call.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
    answers = dict(COOPERATIVE)
    answers["ASK_PHONE"] = "восемь девятьсот шестнадцать двадцать три сорок пять шестьдесят семь"
    call.answer_until("ASK_PHONE", answers)
    booked_at = call.last["slots"]["appointment_datetime"]
    assert booked_at == f"{FRIDAY}T14:00:00+03:00"
    call.say(answers["ASK_PHONE"])
    assert call.last["state"] == "ASK_PHONE"
    assert call.last["slots"]["appointment_datetime"] == booked_at
    assert call.last["slots"].get("phone") is None
    call.say("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь")
    assert call.last["slots"]["phone"] == "+79161234567"
    assert call.last["slots"]["appointment_datetime"] == booked_at


@pytest.mark.parametrize(
    ("utterance", "expected"),
    [
        ("я Ольга хочу на мрт колена послезавтра в два часа дня", f"{FRIDAY}T14:00:00+03:00"),
        ("я Ольга хочу на мрт колена двадцать восьмого ноября в три часа дня", f"{SATURDAY}T15:00:00+03:00"),
        ("я Ольга хочу на мрт колена в пятницу в половине третьего", f"{FRIDAY}T14:30:00+03:00"),
    ],
)
def test_dates_and_times_relative_to_now(caller, utterance, expected) -> None:
    call = caller(f"date-{abs(hash(utterance)) % 10000}")
    call.start()
    call.say(utterance)
    final = call.answer_until_done(COOPERATIVE)
    assert final["slots"]["appointment_datetime"] == expected


@pytest.mark.parametrize("answer", ["тогда давайте ближайшее свободное время", "ну на ближайшее окно",
                                    "давайте ближайшие свободные время"])
def test_the_nearest_free_time_is_the_first_offered(caller, answer) -> None:
    """A caller whose time is taken asks for "the nearest free one": the first time offered."""
    taker, call = caller(f"near-a-{len(answer)}"), caller(f"near-b-{len(answer)}")
    for c in (taker, call):
        c.start()
        c.say("я Ольга хочу на мрт колена в пятницу в два часа дня")
        _book_to_confirm(c, COOPERATIVE)
    taker.say("да")
    call.say("да")
    final = call.answer_until_done({**COOPERATIVE, "OFFER_APPOINTMENT_TIMES": answer})
    assert final["slots"]["status"] == "booked", final["slots"]
    assert final["slots"]["appointment_datetime"] != taker.last["slots"]["appointment_datetime"]
