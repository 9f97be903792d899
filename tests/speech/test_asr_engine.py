"""faster-whisper (Whisper base int8, local folder) on Russian telephone-band caller speech."""

from __future__ import annotations

import re

import numpy as np
import pytest

from salesagent.speech.asr.base import AsrEngine
from salesagent.speech.asr.hallucinations import is_hallucination
from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.whisper import AsrConfigError, FasterWhisperEngine, check_model_path
from salesagent.speech.audio import resample
from salesagent.speech.config import AsrSettings

pytestmark = pytest.mark.slow

# Phrases a caller says, with what a recogniser must get: lower-case stems, "a|b" = either
# (Whisper writes numbers as digits or as words).
CALLER_PHRASES = {
    "booking": ("Здравствуйте, я хочу записаться на МРТ коленного сустава в пятницу.", ["записат", "пятниц"]),
    "name": ("Меня зовут Иван Петров.", ["иван", "петров"]),
    "date": ("Запишите меня на двадцать пятое ноября в десять часов.", ["25|двадцат", "ноябр", "10|десят"]),
    "age": ("Мне сорок два года.", ["42|сорок"]),
    "price": ("Сколько стоит исследование головного мозга?", ["сколько", "стоит", "мозг"]),
}


def _words(text: str) -> str:
    return re.sub(r"[^\w\s]", " ", text.lower().replace("ё", "е"))


@pytest.mark.parametrize("key", sorted(CALLER_PHRASES))
def test_key_words_from_8khz_caller(whisper_engine, caller_audio, quiet, clinic_prompt, key):
    text, expected = CALLER_PHRASES[key]
    audio = resample(np.concatenate([quiet(0.3), caller_audio(text), quiet(0.3)]), 8000)
    result = whisper_engine.transcribe(audio, clinic_prompt)
    heard = _words(result.text)
    missing = [want for want in expected if not any(stem in heard for stem in want.split("|"))]
    assert not missing, f"{missing} not in {result.text!r}"
    assert 0.2 < result.confidence <= 1.0
    assert result.segments and result.segments[-1].end <= result.audio_s + 0.5


def test_int16_input_is_the_same_audio(whisper_engine, caller_audio):
    audio = resample(caller_audio(CALLER_PHRASES["name"][0]), 8000)
    as_int16 = (audio * 32767).astype(np.int16)
    assert "петров" in _words(whisper_engine.transcribe(as_int16).text)


def test_silence_and_noise_give_no_text(whisper_engine, quiet, noise):
    assert whisper_engine.transcribe(resample(quiet(3.0), 8000)).text == ""
    assert whisper_engine.transcribe(resample(noise(3.0, level_db=-30.0), 8000)).text == ""
    assert whisper_engine.transcribe(np.zeros(800, dtype=np.float32)).text == ""  # 50 ms


def test_engine_satisfies_protocol(whisper_engine):
    assert isinstance(whisper_engine, AsrEngine)
    assert "whisper-base" in whisper_engine.name and "int8" in whisper_engine.name


@pytest.mark.parametrize(
    "text",
    [
        "Продолжение следует...",
        "Субтитры сделал DimaTorzok",
        "Субтитры создавал DimaTorzok.",
        "Спасибо за просмотр!",
        "Редактор субтитров А.Семкин Корректор А.Егорова",
        "[МУЗЫКА]",
        "СПОКОЙ ДИНАМИЧНАЯ МУЗЫКА",  # ctranslate2 4.8.5 on 3 s of digital silence
        "Спокойная музыка.",
        "Подписывайтесь на канал!",
        "...",
    ],
)
def test_known_silence_phrases_are_hallucinations(text):
    assert is_hallucination(text)


@pytest.mark.parametrize(
    "text",
    ["Спасибо, до свидания.", "1975.", "Продолжите, пожалуйста", "Сколько стоит МРТ?", "Да.",
     "У вас на линии играет музыка, я плохо слышу"],
)
def test_caller_phrases_are_not_hallucinations(text):
    assert not is_hallucination(text)


def test_prompt_comes_from_the_profile_and_is_bounded(profile):
    assert profile.asr_prompt
    full = vocabulary_prompt(profile, max_chars=1000)
    assert full == profile.asr_prompt.strip()
    prompt = vocabulary_prompt(profile, max_chars=250)
    assert 0 < len(prompt) <= 250 and full.startswith(prompt) and prompt.endswith(".")
    assert vocabulary_prompt(profile, max_chars=0) == ""


def test_without_a_written_prompt_the_vocabulary_list_is_used(profile):
    listed = profile.model_copy(update={"asr_prompt": None})
    prompt = vocabulary_prompt(listed, max_chars=120)
    assert len(prompt) <= 121
    assert prompt.startswith(listed.vocabulary()[0])
    assert vocabulary_prompt(listed, max_chars=0) == ""


def test_missing_model_folder_is_one_clear_line(tmp_path):
    with pytest.raises(AsrConfigError, match=r"does not exist: run scripts/setup\.sh") as err:
        FasterWhisperEngine(AsrSettings(model_path=tmp_path / "nope"))
    assert "\n" not in str(err.value)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.bin").write_bytes(b"x")
    with pytest.raises(AsrConfigError, match=r"lacks config\.json, tokenizer\.json"):
        check_model_path(tmp_path / "half")


def test_cuda_without_a_gpu_refuses_to_start():
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has CUDA; the refusal path needs a machine without it")
    with pytest.raises(AsrConfigError, match=r"SALESAGENT_ASR_DEVICE=cuda but no CUDA device") as err:
        FasterWhisperEngine(AsrSettings(device="cuda"))
    assert "\n" not in str(err.value)


def test_compute_type_and_partial_interval_follow_the_device():
    cpu, gpu = AsrSettings(device="cpu"), AsrSettings(device="cuda")
    assert (cpu.effective_compute_type, gpu.effective_compute_type) == ("int8", "int8_float16")
    assert gpu.effective_partial_interval_ms == 120 and cpu.effective_partial_interval_ms > 120
    assert AsrSettings(partial_interval_ms=300).effective_partial_interval_ms == 300


def test_a_prompt_that_makes_whisper_loop_does_not_lose_the_answer(whisper_engine, caller_audio, profile):
    """The phone question's prompt (digits) once made Whisper repeat the digits to its token limit;
    that decode is dropped as a loop, and the clip decoded again without the prompt."""
    from salesagent.speech.asr.prompt import QuestionPrompts

    prompt = QuestionPrompts(profile).for_question("ASK_PHONE", "Продиктуйте, пожалуйста, ваш номер телефона.")
    audio = caller_audio("Мой номер восемь, девять один шесть, один два три, четыре пять, шесть семь.",
                         pitch_cents=200, tempo=1.05)
    result = whisper_engine.transcribe(resample(audio, 8000, 16000), prompt)
    digits = re.sub(r"\D", "", result.text)
    assert result.text and (len(digits) >= 8 or "восемь" in result.text.lower()), (result.text, result.dropped)
    assert result.decode_s < 10


def test_a_decode_has_a_token_budget(whisper_engine):
    """A repetition loop stops at ~15 tokens per second of audio, never at Whisper's 448."""
    assert whisper_engine._token_budget(2.0, None) == 40
    assert whisper_engine._token_budget(29.0, "слово " * 200) < 448 - 200


@pytest.mark.parametrize(("voice", "pitch", "tempo"), [("festival", 250, 1.1), ("rhvoice:aleksandr", 200, 1.05)])
def test_a_name_offered_by_the_prompt_is_not_put_in_the_callers_mouth(whisper_engine, caller_audio, profile,
                                                                      voice, pitch, tempo):
    """A caller who pauses after "Меня зовут," was heard as "Меня зовут Татьяна." (the name
    question's prompt offers "Татьяна Николаевна") by these two voices; a caller who says the
    name is still heard saying it."""
    from salesagent.speech.asr.prompt import QuestionPrompts
    from salesagent.speech.audio import resample

    prompt = QuestionPrompts(profile).for_question("ASK_CLIENT_NAME")
    assert "Татьяна" in prompt

    def heard(text: str) -> str:
        audio = caller_audio(text, rate=8000, voice=voice, pitch_cents=pitch, tempo=tempo)
        return whisper_engine.transcribe(resample(audio, 8000, 16000), prompt).text.lower()

    assert "татьян" not in heard("Меня зовут,")
    assert "татьян" in heard("Меня зовут Татьяна, фамилия Смирнова.")
