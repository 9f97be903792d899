"""Synthetic Russian callers for tests, the demo and the bench: festival or RHVoice, changed by sox.

Real recordings of callers cannot be committed, so test speech is generated: festival's
msu_ru_nsh (UTF-8 input; KOI8-R makes it spell garbage) or an RHVoice voice other than the
agent's (``voice="rhvoice:anna"``) speaks the text, sox shifts pitch and tempo (so the "caller"
is not any TTS voice the agent itself uses) and band-limits it to a telephone line (300-3400 Hz,
8 kHz). sox runs without dither (``-D``) so the same text gives the same samples on every run and
tests are reproducible. Needs the Debian packages ``festival festvox-ru sox`` (scripts/setup.d/20-asr-models.sh).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from salesagent.speech.audio import pcm16_to_float32

VOICE = "(voice_msu_ru_nsh_clunits)"


class CallerVoiceUnavailableError(RuntimeError):
    """festival / its Russian voice / sox are not installed."""


def require_tools() -> None:
    missing = [tool for tool in ("text2wave", "sox") if shutil.which(tool) is None]
    if missing:
        raise CallerVoiceUnavailableError(
            f"{', '.join(missing)} not found: run scripts/setup.d/20-asr-models.sh (festival festvox-ru sox)"
        )


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono PCM16 WAV -> (float32 samples, rate)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: need mono 16-bit PCM")
        return pcm16_to_float32(wav.readframes(wav.getnframes())), wav.getframerate()


@functools.cache
def _rhvoice():
    """One RHVoice engine per process for every caller voice (it serialises its own calls)."""
    from salesagent.speech.tts.rhvoice import RHVoiceEngine

    return RHVoiceEngine()


def _speak_raw(text: str, voice: str, tmp: str) -> Path:
    """The unprocessed voice as a WAV file in ``tmp``: festival, or ``rhvoice:<name>``."""
    raw = Path(tmp, "raw.wav")
    if voice.startswith("rhvoice:"):
        engine = _rhvoice()
        pcm = engine.synthesize(text, voice.split(":", 1)[1])
        with wave.open(str(raw), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(engine.sample_rate)
            wav.writeframes(pcm)
        return raw
    if voice != "festival":
        raise ValueError(f"unknown caller voice {voice!r}: 'festival' or 'rhvoice:<name>'")
    txt = Path(tmp, "in.txt")
    txt.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["text2wave", "-eval", VOICE, str(txt), "-o", str(raw)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0 or not raw.is_file() or raw.stat().st_size < 1000:
        raise CallerVoiceUnavailableError(f"festival failed (is festvox-ru installed?): {proc.stderr.strip()[-200:]}")
    return raw


def synthesize_caller(
    text: str,
    *,
    rate: int = 8000,
    pitch_cents: int = 250,
    tempo: float = 1.1,
    telephone: bool = True,
    voice: str = "festival",
) -> np.ndarray:
    """Speak ``text`` as a "caller": float32 mono at ``rate`` (band-limited to 300-3400 Hz by default)."""
    require_tools()
    with tempfile.TemporaryDirectory(prefix="caller-") as tmp:
        raw, out = _speak_raw(text, voice, tmp), Path(tmp, "out.wav")
        effects = ["pitch", str(pitch_cents), "tempo", str(tempo)]
        if telephone:
            effects += ["sinc", "300-3400"]
        proc = subprocess.run(
            ["sox", "-D", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out), *effects],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            raise CallerVoiceUnavailableError(f"sox failed: {proc.stderr.strip()[-200:]}")
        audio, got_rate = read_wav(out)
    if got_rate != rate:
        raise RuntimeError(f"sox wrote {got_rate} Hz, wanted {rate}")
    return audio


def silence(seconds: float, rate: int = 8000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def line_noise(seconds: float, rate: int = 8000, level_db: float = -30.0, seed: int = 7) -> np.ndarray:
    """Band-limited-ish hiss plus 50 Hz hum: what an open phone line sounds like."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    amp = 10 ** (level_db / 20)
    hiss = rng.normal(0.0, amp, n)
    hum = 0.5 * amp * np.sin(2 * np.pi * 50 * np.arange(n) / rate)
    return (hiss + hum).astype(np.float32)
