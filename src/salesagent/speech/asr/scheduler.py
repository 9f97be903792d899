"""Bounded decoding for all calls: ONE shared engine, a fixed number of worker threads.

A Whisper decode costs ~0.6 s of CPU whatever the clip length, so work must be rationed:

* finals (the caller finished a phrase; the dialog waits for it) always go before partials;
* each stream has at most ONE queued partial: a newer partial replaces the queued one (the old
  request resolves to ``None``), because a partial nobody has seen yet is stale once newer audio
  is in;
* a final for a stream drops that stream's queued partial;
* a speculative final (the caller paused; the endpoint has not fired yet) waits behind every real
  final and before every partial: when the endpoint fires with the same audio, :meth:`promote`
  moves it among the finals, so a caller who pauses never delays another caller's final.

Workers are asyncio tasks that run the blocking decode in a ``ThreadPoolExecutor`` of the same
size, so the event loop (WebSockets, VAD) never blocks on the model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from salesagent.speech.asr.base import AsrEngine, Transcript

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    kind: str  # "final" | "speculative" | "partial"
    stream_id: str
    audio: np.ndarray
    prompt: str | None
    future: asyncio.Future[Transcript | None]
    enqueued: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class SchedulerStats:
    finals: int = 0
    partials: int = 0
    partials_replaced: int = 0
    speculative: int = 0
    failures: int = 0
    busy_s: float = 0.0


class DecodeScheduler:
    """Priority queue in front of one :class:`AsrEngine`; create it inside a running event loop."""

    def __init__(self, engine: AsrEngine, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.engine = engine
        self.workers = workers
        self.stats = SchedulerStats()
        self._finals: deque[_Job] = deque()
        self._speculative: deque[_Job] = deque()
        self._partials: OrderedDict[str, _Job] = OrderedDict()
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._running = 0
        self._closed = False

    @property
    def queued(self) -> int:
        return len(self._finals) + len(self._speculative) + len(self._partials)

    @property
    def running(self) -> int:
        return self._running

    def submit_final(self, stream_id: str, audio: np.ndarray, prompt: str | None = None) -> asyncio.Future:
        """Queue a final decode ahead of all partials; drops the stream's queued partial."""
        self._drop_partial(stream_id)
        job = self._job("final", stream_id, audio, prompt)
        self._finals.append(job)
        self._wakeup.set()
        return job.future

    def submit_speculative(self, stream_id: str, audio: np.ndarray, prompt: str | None = None) -> asyncio.Future:
        """Queue a final decode the endpoint may still need; cancel the future when speech resumes."""
        self._drop_partial(stream_id)
        job = self._job("speculative", stream_id, audio, prompt)
        self._speculative.append(job)
        self._wakeup.set()
        return job.future

    def promote(self, future: asyncio.Future) -> None:
        """The endpoint confirmed a speculative decode: if it still waits, it goes among the finals."""
        for i, job in enumerate(self._speculative):
            if job.future is future:
                del self._speculative[i]  # by position: jobs hold arrays, == would compare them
                job.kind = "final"
                self._finals.append(job)
                self._wakeup.set()
                return

    def submit_partial(self, stream_id: str, audio: np.ndarray, prompt: str | None = None) -> asyncio.Future:
        """Queue a partial decode, replacing the stream's queued (not yet running) partial."""
        if self._drop_partial(stream_id):
            self.stats.partials_replaced += 1
        job = self._job("partial", stream_id, audio, prompt)
        self._partials[stream_id] = job
        self._wakeup.set()
        return job.future

    def cancel_stream(self, stream_id: str) -> None:
        """A call hung up: forget its queued partials and finals (running decodes finish)."""
        self._drop_partial(stream_id)
        for queue in (self._finals, self._speculative):
            kept = [j for j in queue if j.stream_id != stream_id]
            for job in queue:
                if job.stream_id == stream_id and not job.future.done():
                    job.future.set_result(None)
            queue.clear()
            queue.extend(kept)

    async def aclose(self) -> None:
        """Stop the workers; queued requests resolve to ``None``."""
        self._closed = True
        for job in [*self._finals, *self._speculative, *self._partials.values()]:
            if not job.future.done():
                job.future.set_result(None)
        self._finals.clear()
        self._speculative.clear()
        self._partials.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- internals -------------------------------------------------------------------------

    def _job(self, kind: str, stream_id: str, audio: np.ndarray, prompt: str | None) -> _Job:
        if self._closed:
            raise RuntimeError("DecodeScheduler is closed")
        self._ensure_workers()
        return _Job(kind, stream_id, audio, prompt, asyncio.get_running_loop().create_future())

    def _drop_partial(self, stream_id: str) -> bool:
        job = self._partials.pop(stream_id, None)
        if job is None:
            return False
        if not job.future.done():
            job.future.set_result(None)
        return True

    def _ensure_workers(self) -> None:
        if self._tasks:
            return
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="asr-decode")
        self._tasks = [asyncio.create_task(self._worker(i), name=f"asr-worker-{i}") for i in range(self.workers)]

    def _next_job(self) -> _Job | None:
        if self._finals:
            return self._finals.popleft()
        while self._speculative:
            job = self._speculative.popleft()
            if not job.future.done():  # speech resumed: the owner cancelled it
                return job
        if self._partials:
            return self._partials.popitem(last=False)[1]
        return None

    async def _worker(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = self._next_job()
            if job is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if job.future.done():  # cancelled by its owner while queued
                continue
            self._running += 1
            started = time.perf_counter()
            try:
                result = await loop.run_in_executor(self._executor, self.engine.transcribe, job.audio, job.prompt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.failures += 1
                log.exception("ASR decode failed", extra={"context": {"stream": job.stream_id, "kind": job.kind}})
                if not job.future.done():
                    job.future.set_exception(exc)
            else:
                if job.kind == "final":
                    self.stats.finals += 1
                elif job.kind == "speculative":
                    self.stats.speculative += 1
                else:
                    self.stats.partials += 1
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self._running -= 1
                self.stats.busy_s += time.perf_counter() - started
