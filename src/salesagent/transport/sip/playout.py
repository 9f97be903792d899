"""Agent audio waiting to be played into a SIP call, shared between asyncio and pjmedia's clock.

The WebSocket reader (asyncio thread) appends L16 as it arrives; pjmedia's conference clock
(a pjlib thread) pulls exactly one 20 ms frame every tick and must never block or wait, so the
buffer is a byte FIFO under a plain lock and an underrun is filled with silence. ``killAudio``
empties it: that is what makes barge-in take effect within one frame at the SIP edge.
"""

from __future__ import annotations

import threading


class PlayoutBuffer:
    """Thread-safe PCM16 FIFO with a size cap; ``pull`` always returns exactly ``nbytes``."""

    def __init__(self, max_bytes: int) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._max = max_bytes
        self._odd = b""  # a dangling byte from a frame split mid-sample, kept for the next push
        self.dropped_bytes = 0
        self.underruns = 0
        self.played_bytes = 0

    def push(self, pcm: bytes) -> None:
        with self._lock:
            data = self._odd + pcm
            if len(data) % 2:
                data, self._odd = data[:-1], data[-1:]
            else:
                self._odd = b""
            room = self._max - len(self._buf)
            if room < len(data):
                self.dropped_bytes += len(data) - max(room, 0)
                data = data[: max(room, 0) & ~1]
            self._buf += data

    def clear(self) -> int:
        """Drop everything queued; returns how many bytes were dropped."""
        with self._lock:
            n = len(self._buf)
            self._buf.clear()
            self._odd = b""
            return n

    def pull(self, nbytes: int) -> bytes:
        """The next ``nbytes`` of audio, zero-padded when the agent has nothing (more) to say."""
        with self._lock:
            chunk = bytes(self._buf[:nbytes])
            del self._buf[:nbytes]
        self.played_bytes += len(chunk)
        if len(chunk) < nbytes:
            if chunk:
                self.underruns += 1
            chunk += b"\x00" * (nbytes - len(chunk))
        return chunk

    def __len__(self) -> int:
        with self._lock:
            return len(self._buf)
