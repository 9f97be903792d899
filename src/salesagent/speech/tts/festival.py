"""Festival + festvox-ru (msu_ru_nsh) as a pool of LONG-LIVED ``festival --pipe`` processes.

Starting festival and loading the Russian voice costs ~0.6 s and ~500 MB; synthesis itself has a
real-time factor of 0.01-0.03. So each process is started once and fed one utterance at a time:
``(utt.save.wave (utt.synth (Utterance Text "...")) "<tmp>.wav" 'riff)`` followed by a marker
line that tells us the file is complete. Each process is used by one caller at a time (a queue
of idle processes is the lock); a process that died or hung is killed and restarted, and the
utterance is retried once on the fresh one.

Encoding: the voice declares ``(coding utf-8)`` and its lexicon explodes words as UTF-8; KOI8-R
input fails with "LTS_Ruleset russian_downcase: no rule matches" (tests/speech/test_tts_engines.py).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import queue
import re
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from salesagent.speech.tts.audio import wav_to_pcm16
from salesagent.speech.tts.base import TtsError, pick_voice

log = logging.getLogger(__name__)

ENCODING = "utf-8"
_VOICES = {"msu_ru_nsh": "voice_msu_ru_nsh_clunits"}


_UNSAFE = re.compile(r"[^0-9A-Za-zА-Яа-яЁё\s.,!?;:'-]")


def festival_text(text: str) -> str:
    """Only characters the Russian letter-to-sound rules accept: one "—", "«" or "/" makes the
    voice write no audio at all ("LTS_Ruleset russian_downcase: no rule matches")."""
    text = text.replace("…", ".").replace("—", ",").replace("–", ",")
    text = " ".join(_UNSAFE.sub(" ", text).split())
    # A punctuation mark standing alone is a "word" the rules reject too: glue it to the word before.
    text = re.sub(r"\s+([.,!?;:])", r"\1", text)
    text = re.sub(r"([.,!?;:])[.,!?;:]+", r"\1", text)
    return re.sub(r"^[\s.,!?;:]+", "", text)


def scheme_string(text: str) -> str:
    """Text as a Scheme string literal: backslashes and quotes escaped, newlines flattened."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _FestivalProcess:
    """One ``festival --pipe`` with the Russian voice loaded. Not thread-safe: the pool serialises."""

    _ids = itertools.count(1)

    def __init__(self, binary: str, voice_fn: str, workdir: Path, timeout_s: float) -> None:
        self.binary, self.voice_fn, self.timeout_s = binary, voice_fn, timeout_s
        self.id = next(self._ids)
        self.wav_path = workdir / f"festival-{self.id}.wav"
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self.utterances = 0
        self._seq = 0
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        self._command(f"({self.voice_fn})")

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr_tail.append(line.decode(ENCODING, "replace").rstrip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _command(self, scheme: str) -> None:
        """Send ``scheme`` and wait for our marker line on stdout."""
        self._seq += 1
        marker = f"SALESAGENT-DONE-{self._seq}"
        payload = f'{scheme}\n(format t "{marker}\\n")(fflush nil)\n'.encode(ENCODING)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise TtsError(f"festival process {self.pid} is gone: {exc}") from exc
        deadline = time.monotonic() + self.timeout_s
        buffer = b""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TtsError(f"festival process {self.pid} did not answer in {self.timeout_s:.0f} s")
                if not sel.select(left):
                    continue
                data = os.read(fd, 65536)
                if not data:
                    raise TtsError(f"festival process {self.pid} exited: {' | '.join(list(self.stderr_tail)[-3:])}")
                buffer += data
                if marker.encode() in buffer:
                    return

    def synthesize(self, text: str) -> tuple[bytes, int]:
        self.wav_path.unlink(missing_ok=True)
        self._command(f"(utt.save.wave (utt.synth (Utterance Text {scheme_string(text)})) \"{self.wav_path}\" 'riff)")
        self.utterances += 1
        try:
            data = self.wav_path.read_bytes()
        except FileNotFoundError as exc:
            detail = " | ".join(list(self.stderr_tail)[-3:])
            raise TtsError(f"festival wrote no audio for {text[:40]!r}: {detail}") from exc
        return wav_to_pcm16(data)

    def close(self) -> None:
        if self.alive():
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b"(quit)\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.wav_path.unlink(missing_ok=True)


class FestivalEngine:
    """A pool of long-lived festival processes speaking Russian (msu_ru_nsh, 16 kHz)."""

    name = "festival"
    sample_rate = 16000

    def __init__(self, binary: str = "festival", pool_size: int = 2, timeout_s: float = 30.0) -> None:
        path = shutil.which(binary)
        if path is None:
            raise TtsError(f"{binary!r} not found: install festival festvox-ru (bash scripts/setup.sh)")
        self.binary, self.timeout_s = path, timeout_s
        self.voices = list(_VOICES)
        self._workdir = Path(tempfile.mkdtemp(prefix="salesagent-festival-"))
        self._idle: queue.Queue[_FestivalProcess] = queue.Queue()
        self._all: list[_FestivalProcess] = []
        self._closed = False
        self.restarts = 0
        started = time.perf_counter()
        for _ in range(pool_size):
            proc = self._spawn()
            self._all.append(proc)
            self._idle.put(proc)
        log.info(
            "festival pool ready",
            extra={"context": {"processes": pool_size, "start_ms": round((time.perf_counter() - started) * 1000)}},
        )

    def _spawn(self) -> _FestivalProcess:
        try:
            return _FestivalProcess(self.binary, _VOICES["msu_ru_nsh"], self._workdir, self.timeout_s)
        except TtsError as exc:
            raise TtsError(f"festival could not load the Russian voice (apt-get install festvox-ru): {exc}") from exc

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._all]

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        pick_voice(self.name, self.voices, voice)
        if self._closed:
            raise TtsError("festival engine is closed")
        text = festival_text(text)
        if not re.search(r"\w", text):
            return b""
        proc = self._idle.get()
        try:
            for attempt in (1, 2):
                if not proc.alive():
                    proc = self._restart(proc, "process exited")
                try:
                    pcm, rate = proc.synthesize(text)
                    if rate != self.sample_rate:
                        raise TtsError(f"festival produced {rate} Hz, expected {self.sample_rate}")
                    return pcm
                except TtsError as exc:
                    if attempt == 2 or (proc.alive() and "wrote no audio" in str(exc)):
                        raise
                    proc = self._restart(proc, str(exc))
            raise AssertionError("unreachable")
        finally:
            self._idle.put(proc)

    def _restart(self, proc: _FestivalProcess, reason: str) -> _FestivalProcess:
        log.warning("festival process restarted", extra={"context": {"pid": proc.pid, "reason": reason}})
        proc.close()
        fresh = self._spawn()
        self._all[self._all.index(proc)] = fresh
        self.restarts += 1
        return fresh

    def close(self) -> None:
        self._closed = True
        for proc in self._all:
            proc.close()
        shutil.rmtree(self._workdir, ignore_errors=True)
