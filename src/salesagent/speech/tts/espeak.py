"""espeak-ng's Russian voice via ``--stdout``: tiny and instant, but robotic (see docs/speech-tts.md).

One short-lived process per utterance: espeak-ng starts in a few milliseconds, so a pool buys
nothing. Text goes in on stdin as UTF-8 (``-b 1``) so no text is ever parsed as an option.
"""

from __future__ import annotations

import shutil
import subprocess

from salesagent.speech.tts.audio import wav_to_pcm16
from salesagent.speech.tts.base import TtsError, pick_voice


class EspeakEngine:
    name = "espeak"
    sample_rate = 22050

    def __init__(self, binary: str = "espeak-ng", speed_wpm: int = 150, timeout_s: float = 30.0) -> None:
        path = shutil.which(binary)
        if path is None:
            raise TtsError(f"{binary!r} not found: apt-get install espeak-ng (bash scripts/setup.sh)")
        self.binary, self.speed_wpm, self.timeout_s = path, speed_wpm, timeout_s
        self.voices = ["ru", "ru+f3", "ru+m3"]

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        chosen = pick_voice(self.name, self.voices, voice)
        if not text.strip():
            return b""
        try:
            done = subprocess.run(
                [self.binary, "-v", chosen, "-s", str(self.speed_wpm), "-b", "1", "--stdout"],
                input=text.encode("utf-8"), capture_output=True, timeout=self.timeout_s, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TtsError(f"espeak-ng did not finish in {self.timeout_s:.0f} s") from exc
        if done.returncode != 0:
            raise TtsError(f"espeak-ng failed ({done.returncode}): {done.stderr.decode(errors='replace')[:200]}")
        pcm, rate = wav_to_pcm16(done.stdout)
        if rate != self.sample_rate:
            raise TtsError(f"espeak-ng produced {rate} Hz, expected {self.sample_rate}")
        return pcm

    def close(self) -> None:
        """Nothing is kept between utterances."""
