"""The call recording: one stereo WAV, caller on the left, agent on the right, aligned by time.

Caller audio is placed by its stream position (``AudioIn.t``, counted in samples, exact). Agent
audio is placed where the outbound pump put it on the play clock (``PlaybackItem.play_start``),
and only the part actually sent: after a barge-in the recording holds what the caller heard, not
what the agent meant to say. Both clocks start when the call started, so the channels line up to
within the network delay.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from salesagent.transport.call import PlaybackItem, PlaybackState


class StereoRecorder:
    """Collects both sides of a call in memory (8 kHz PCM16 is 57.6 MB per hour, stereo)."""

    def __init__(self, sample_rate: int, t0: float, max_s: float = 3600.0) -> None:
        self.sample_rate = sample_rate
        self.t0 = t0  # loop time of stream position 0
        self.max_samples = int(max_s * sample_rate)
        self._caller: list[tuple[int, np.ndarray]] = []
        self._agent: list[PlaybackItem] = []

    def caller(self, pcm: bytes, t: float, sample_rate: int) -> None:
        """One inbound frame at stream time ``t`` seconds."""
        samples = np.frombuffer(pcm, dtype="<i2")
        if sample_rate != self.sample_rate:
            from salesagent.speech.audio import resample_pcm16

            samples = np.frombuffer(resample_pcm16(pcm, sample_rate, self.sample_rate), dtype="<i2")
        self._caller.append((round(t * self.sample_rate), samples))

    def agent(self, item: PlaybackItem) -> None:
        """An outbound item; read when the WAV is built, after it was played or cut."""
        self._agent.append(item)

    def _agent_segments(self) -> list[tuple[int, np.ndarray]]:
        out = []
        for item in self._agent:
            if item.play_start is None or item.sent_bytes == 0:
                continue
            samples = np.frombuffer(item.pcm[: item.sent_bytes], dtype="<i2")
            if item.sample_rate != self.sample_rate:
                from salesagent.speech.audio import resample_pcm16

                samples = np.frombuffer(
                    resample_pcm16(samples.tobytes(), item.sample_rate, self.sample_rate), dtype="<i2"
                )
            if item.state is PlaybackState.CLEARED:  # cut by a barge-in: keep only what was heard
                samples = samples[: int(item.heard_s * self.sample_rate)]
            out.append((round((item.play_start - self.t0) * self.sample_rate), samples))
        return out

    def stereo(self) -> np.ndarray:
        """Interleaved int16 array of shape (n, 2)."""
        caller = self._caller
        agent = self._agent_segments()
        ends = [max(0, o) + s.size for o, s in (*caller, *agent)]
        n = min(max(ends, default=0), self.max_samples)
        out = np.zeros((n, 2), dtype="<i2")
        for channel, segments in ((0, caller), (1, agent)):
            for offset, samples in segments:
                start = max(0, offset)
                skip = start - offset
                end = min(n, start + samples.size - skip)
                if end > start:
                    out[start:end, channel] = samples[skip : skip + end - start]
        return out

    def wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(self.stereo().tobytes())
        return buf.getvalue()
