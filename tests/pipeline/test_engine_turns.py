"""Turn-taking of the per-call engine, in virtual time (looptime): whole calls in milliseconds.

The real :class:`VoiceCall`, :class:`~salesagent.transport.Call` and outbound pump run; only the
transcriber, the voice and the dialog are fakes (tests/support/voice_fakes.py), so every timing
below is exact and the same on every run.
"""

from __future__ import annotations

import numpy as np
import pytest

from salesagent.dialog.slots import CallStatus
from support.voice_fakes import FakeDialog, FakeTTS, Line

pytestmark = pytest.mark.looptime

GREETING = "Здравствуйте! Клиника слушает."
LONG = ("Мы работаем каждый день с восьми утра до девяти вечера. Запись на МРТ, КТ и УЗИ. "
        "Скажите, пожалуйста, какое исследование вам нужно?")


async def test_an_empty_decode_of_a_cough_after_the_answer_does_not_hang_the_call() -> None:
    """The landed hang: a final arrives while the caller still makes a sound that decodes to ""."""
    line = Line(FakeDialog([GREETING, "Записала. Всего доброго!"]))
    await line.wait(2)
    start = line.asr.start_speech()
    await line.wait(1.2)
    s, e = line.asr.end_speech()
    cough = line.asr.start_speech()  # the caller coughs before the answer's final comes
    line.loop.call_later(0.4, line.asr.final, s, e, "Хочу на МРТ")
    await line.wait(0.6)
    c0, c1 = line.asr.end_speech()
    line.loop.call_later(0.8, line.asr.discard, c0, c1)
    await line.finished(30)
    assert start < cough
    assert line.dialog.heard == ["", "Хочу на МРТ"]
    assert line.dialog.ended == [CallStatus.BOOKED]


async def test_an_utterance_whose_transcript_never_comes_is_given_up_after_the_deadline() -> None:
    line = Line(FakeDialog([GREETING, "Спасибо. До свидания!"]), final_timeout_s=5.0, silence_prompt_s=30.0)
    await line.wait(2)
    _s, e = await line.say("Хочу на МРТ", speak_s=1.0, asr_s=0.5)
    line.asr.start_speech()
    await line.wait(0.5)
    line.asr.end_speech()  # ... and this one's result is lost
    await line.finished(20)
    assert line.dialog.heard == ["", "Хочу на МРТ"]
    turn_at = next(t.start for t in line.transcript if t.role == "agent" and "Спасибо" in t.text)
    assert 5.0 <= turn_at - e <= 6.5  # waited for the lost result up to final_timeout_s, not forever


async def test_a_slow_transcript_is_waited_for_without_a_silence_prompt() -> None:
    """CPU Whisper under load can take longer than the silence prompt delay: the caller spoke,
    so the agent must not ask "Вы меня слышите?" nor give up on him."""
    line = Line(FakeDialog([GREETING, "Записала. Всего доброго!"]), silence_prompt_s=4.0, silence_prompts=1)
    await line.wait(2)
    await line.say("Хочу записаться на МРТ", speak_s=1.5, asr_s=12.0)
    await line.finished(60)
    assert line.dialog.heard == ["", "Хочу записаться на МРТ"]
    assert [t.kind for t in line.transcript if t.role == "agent"] == ["turn", "turn"]
    assert line.dialog.ended == [CallStatus.BOOKED]


async def test_barge_in_stops_the_agent_on_the_wire_within_200_ms() -> None:
    line = Line(FakeDialog([LONG, "Хорошо. До свидания!"]))
    await line.wait(1.0)  # the greeting is ~1.4 s of audio: the caller talks over it
    started = line.asr.start_speech()
    t_speech = line.now()
    await line.wait(1.5)
    s, e = line.asr.end_speech()
    line.loop.call_later(0.3, line.asr.final, s, e, "Мне нужно МРТ колена")
    await line.finished(30)
    assert started > 0
    cut_at = [t - line.t0 for t in line.sink.clears]
    assert cut_at and cut_at[0] - t_speech < 0.2
    sent = [t - line.t0 for t, _item, _pcm in line.sink.frames]
    assert [t for t in sent if t_speech + 0.2 <= t < t_speech + 1.5] == []  # silent while the caller spoke
    agent = [t for t in line.transcript if t.role == "agent"]
    assert agent[0].interrupted and 0 < agent[0].heard_fraction < 0.8
    assert line.dialog.heard == ["", "Мне нужно МРТ колена"]


async def test_a_backchannel_resumes_where_it_paused_without_replaying() -> None:
    tts = FakeTTS()
    line = Line(FakeDialog([LONG, "Хорошо. До свидания!"]), tts=tts)
    await line.wait(0.8)
    await line.say("угу", speak_s=0.3, asr_s=0.4)
    await line.wait(3.0)
    wire = line.sink.heard_samples()
    spoken = [tts.tone(text, 8000) for text in tts.said]
    expected = np.concatenate(spoken)
    assert len(line.sink.clears) == 1  # paused once on the wire ...
    assert len(wire) == len(expected) and np.array_equal(wire, expected)  # ... nothing heard twice or lost
    assert line.dialog.heard == [""]  # "угу" never reached the dialog
    agent = [t for t in line.transcript if t.role == "agent"]
    assert agent[0].heard_fraction == 1.0 and not agent[0].interrupted
    await line.hang_up()


async def test_a_quick_yes_over_the_end_of_the_question_is_an_answer() -> None:
    """A caller who says "Да." over "... Верно?" (shorter than backchannel_max_ms) answers: the
    agent resumes at once on the length, then the transcript makes it a turn. Judged by length
    alone it was lost, and the agent asked "Вы меня слышите?" (bench/bench_cluster.py)."""
    line = Line(FakeDialog([LONG, "Записала. Всего доброго!"]), silence_prompt_s=30.0)
    await line.wait(1.0)
    await line.say("Да.", speak_s=0.35, asr_s=0.4)
    await line.finished(30)
    assert line.dialog.heard == ["", "Да."]
    assert line.dialog.ended == [CallStatus.BOOKED]
    assert not [t for t in line.transcript if t.role == "agent" and t.kind == "silence_prompt"]


async def test_a_short_stretch_that_decodes_to_no_words_stays_a_backchannel() -> None:
    line = Line(FakeDialog([LONG, "Хорошо. До свидания!"]))
    await line.wait(0.8)
    start = line.asr.start_speech()
    await line.wait(0.3)
    s, e = line.asr.end_speech()
    line.loop.call_later(0.4, line.asr.discard, s, e)
    await line.wait(4.0)
    assert start > 0
    assert line.dialog.heard == [""]
    await line.hang_up()


async def test_a_reply_being_prepared_when_the_caller_goes_on_is_never_spoken() -> None:
    dialog = FakeDialog([GREETING, "Ответ на первое.", "Записала вас на МРТ. До свидания!"], delay_s=1.0)
    line = Line(dialog)
    await line.wait(2)
    await line.say("Мне бы МРТ", speak_s=1.0, asr_s=0.2)
    await line.wait(0.4)  # the dialog thinks about the first part; the caller goes on
    await line.say("колена, на завтра", speak_s=1.5, asr_s=0.3)
    await line.finished(30)
    assert dialog.heard == ["", "Мне бы МРТ", "колена, на завтра"]  # the session got both, in order
    sent_texts = {item.text for _t, item, _pcm in line.sink.frames if item.text}
    assert "Ответ на первое." not in sent_texts
    assert "Записала вас на МРТ." in sent_texts


async def test_silence_prompts_then_goodbye_then_the_call_ends_abandoned() -> None:
    line = Line(FakeDialog([GREETING]), silence_prompt_s=5.0, silence_prompts=2)
    await line.finished(60)
    kinds = [t.kind for t in line.transcript if t.role == "agent"]
    assert kinds == ["turn", "silence_prompt", "silence_prompt", "goodbye"]
    assert line.dialog.ended == [CallStatus.ABANDONED]
    prompts = [t.start for t in line.transcript if t.kind == "silence_prompt"]
    assert prompts[0] == pytest.approx(5.0 + FakeTTS.duration_s(GREETING), abs=0.3)


async def test_the_caller_hanging_up_mid_turn_ends_cleanly_and_keeps_the_lead() -> None:
    dialog = FakeDialog([GREETING, "Сейчас посмотрю расписание."], delay_s=3.0)
    line = Line(dialog)
    await line.wait(2)
    await line.say("Хочу на МРТ завтра", speak_s=1.0, asr_s=0.2)
    await line.wait(1.0)  # the dialog is still thinking
    await line.hang_up()
    assert dialog.heard == ["", "Хочу на МРТ завтра"]  # the step under way finished first
    assert dialog.ended == [CallStatus.ABANDONED]


async def test_the_ears_follow_the_question_just_asked() -> None:
    """After each reply the transcriber is primed for its answer: the profile's hint for the state
    that asked plus the question, and that state's endpoint (longer for a dictated phone)."""
    from salesagent.clinic.profile import load_profile
    from salesagent.dialog.states import State
    from salesagent.speech.asr.prompt import QuestionPrompts

    phone_q = "Продиктуйте, пожалуйста, ваш номер телефона."
    line = Line(FakeDialog([GREETING, phone_q, "Записала. Всего доброго!"],
                           states=[State.GREETING, State.ASK_PHONE, State.FAREWELL]),
                answer_endpoints_ms={"ASK_PHONE": 900})
    line.services.prompts = QuestionPrompts(load_profile())
    await line.wait(2)
    await line.say("Запишите меня", speak_s=1.0, asr_s=0.3)
    await line.wait(3)
    (greet_prompt, greet_end), (phone_prompt, phone_end) = line.asr.expected[:2]
    assert greet_end is None and phone_end == 900
    assert "щитовидной железы" in greet_prompt  # the studies the caller may ask for
    assert phone_prompt.endswith(phone_q) and phone_prompt != greet_prompt


async def test_the_answer_check_follows_the_question_just_asked() -> None:
    """The transcriber gets, with each question, a check bound to the state that asked it: the
    dialog's AnswerCheck is asked about the state of the last reply, not the one before."""
    from salesagent.dialog.states import State

    class RecordingCheck:
        def __init__(self) -> None:
            self.asked: list[tuple[str, str]] = []

        def complete(self, state: str, text: str) -> bool:
            self.asked.append((state, text))
            return state == "ASK_PHONE"

    check = RecordingCheck()
    line = Line(FakeDialog([GREETING, "Ваш номер телефона?", "Записала. Всего доброго!"],
                           states=[State.GREETING, State.ASK_PHONE, State.FAREWELL]))
    line.services.answers = check
    await line.wait(2)
    assert line.asr.complete("Здравствуйте") is False
    await line.say("Запишите меня", speak_s=1.0, asr_s=0.3)
    await line.wait(3)
    assert line.asr.complete("8 916 123 45 67") is True
    assert check.asked == [("GREETING", "Здравствуйте"), ("ASK_PHONE", "8 916 123 45 67")]
