"""The caller's voice, cached: festival or RHVoice shifted in pitch and tempo, 8 kHz telephone band.

Synthesis (``speech.asr.caller_voice.synthesize_caller``) costs ~1 s per line, so every line is
kept as raw PCM16 under ``$SALESAGENT_DATA_DIR/demo-voice`` keyed by (text, pitch, tempo, rate):
a repeated demo starts speaking at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from salesagent.speech.asr.caller_voice import synthesize_caller
from salesagent.speech.audio import float32_to_pcm16


class CallerVoice:
    def __init__(self, cache_dir: Path, pitch_cents: int, tempo: float, rate: int = 8000,
                 voice: str = "festival") -> None:
        self.cache_dir = Path(cache_dir)
        self.voice = voice
        self.pitch_cents = pitch_cents
        self.tempo = tempo
        self.rate = rate
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    def _path(self, text: str) -> Path:
        key = hashlib.sha256(f"{text}\x1f{self.pitch_cents}\x1f{self.tempo}\x1f{self.rate}\x1f{self.voice}".encode())
        key = key.hexdigest()
        return self.cache_dir / f"{key[:32]}.pcm"

    def render(self, text: str) -> bytes:
        """PCM16 mono at ``rate`` (blocking; from the cache when there)."""
        path = self._path(text)
        if path.is_file():
            return path.read_bytes()
        pcm = float32_to_pcm16(synthesize_caller(text, rate=self.rate, pitch_cents=self.pitch_cents,
                                                 tempo=self.tempo, voice=self.voice))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pcm)
        os.replace(tmp, path)
        return pcm

    async def get(self, text: str) -> bytes:
        """Async, deduplicated: a line being pre-rendered is awaited, not rendered twice."""
        fut = self._inflight.get(text)
        if fut is None:
            fut = asyncio.ensure_future(asyncio.to_thread(self.render, text))
            self._inflight[text] = fut
        return await fut

    async def prerender(self, texts: list[str], parallel: int = 2) -> None:
        sem = asyncio.Semaphore(parallel)

        async def one(text: str) -> None:
            async with sem:
                await self.get(text)

        await asyncio.gather(*(one(t) for t in texts))
