"""Per-call streaming recognition: PCM frames in, typed events out.

``feed(pcm_bytes)`` runs the VAD at once (cheap, ~0.07 ms per 32 ms window) and returns the VAD
events so barge-in needs no extra plumbing; the same events, then :class:`Partial` and
:class:`Final` transcripts, arrive in order on :meth:`StreamingTranscriber.events` (or the
``on_event`` callback). Only audio the VAD called speech is ever decoded, so silence and line
noise produce no text at all.

Timeline of one utterance::

    SpeechStarted(start)            min_speech_ms after speech began (barge-in trigger)
    Partial(text) ...               every partial_interval of audio, if a worker is free
    (speculative final decode)      speculative_silence_ms into a pause: started early, kept if
                                    the caller stays silent to the endpoint, dropped if not; when its
                                    text already answers the question (``expect(complete=...)``) the
                                    pause ends the utterance at answer_complete_silence_ms
    SpeechEnded(start, end)         min_silence_ms after the last speech window (endpoint)
    Final(text, start, end, conf)   when the final decode is done (finals jump the queue)
    or Discarded(start, end, why)   when it yields no text, so nobody waits for a final forever

Works without any network layer: create a :class:`DecodeScheduler` in a running loop, a
transcriber per call, feed it, and iterate the events.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from salesagent.speech.asr.base import Transcript
from salesagent.speech.asr.prompt import echoes_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.audio import TARGET_RATE, RollingAudio, StreamResampler, check_rate, pcm16_to_float32
from salesagent.speech.config import AsrSettings, VadSettings
from salesagent.speech.vad import SpeechEnded, SpeechStarted, VadEvent, VoiceActivityDetector

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Partial:
    """Interim text of the open utterance (may change); ``end`` is the audio time it covers."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Final:
    """Text of a finished utterance: start/end seconds in the stream, confidence 0..1."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Discarded:
    """An utterance that yields no text (a cough, line noise, a failed or unsure decode).

    Emitted in the place its Final would have had, so a listener waiting on the utterance knows it
    is over instead of waiting for ever."""

    start: float
    end: float
    reason: str  # "empty" | "low_confidence" | "failed"


AsrEvent = SpeechStarted | SpeechEnded | Partial | Final | Discarded
_DONE = object()
_stream_ids = itertools.count(1)


class StreamingTranscriber:
    """Recognition state of ONE audio stream (one call leg). Use from the event loop's thread."""

    def __init__(
        self,
        scheduler: DecodeScheduler,
        *,
        sample_rate: int = TARGET_RATE,
        asr: AsrSettings | None = None,
        vad: VadSettings | None = None,
        prompt: str | None = None,
        stream_id: str | None = None,
        on_event: Callable[[AsrEvent], None] | None = None,
        detector: VoiceActivityDetector | None = None,
        partials: bool | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.asr = asr or AsrSettings()
        self.vad_settings = vad or VadSettings()
        self.sample_rate = check_rate(sample_rate)
        self.prompt = prompt
        self.stream_id = stream_id or f"stream-{next(_stream_ids)}"
        self.on_event = on_event
        self.partials = self.asr.partials if partials is None else partials  # decoded only when wanted
        self._vad = detector or VoiceActivityDetector(self.vad_settings)
        self._resampler = StreamResampler(self.sample_rate, TARGET_RATE, quality=self.asr.resample_quality)
        self._ring = RollingAudio()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._pad = self.vad_settings.speech_pad_ms * TARGET_RATE // 1000
        self._preroll = self._pad + (self.vad_settings.min_speech_ms + 64) * TARGET_RATE // 1000
        self._partial_every = self.asr.effective_partial_interval_ms * TARGET_RATE // 1000
        self._max_utt = int(self.asr.max_utterance_s * TARGET_RATE)
        self._utt_id = 0
        self._utt_open = False
        self._utt_start = 0
        self._last_partial_at = 0
        self._partial_seq = 0
        self._emitted_partial_seq = 0
        self._last_final: asyncio.Task[None] | None = None
        self._speculative: tuple[int, int, asyncio.Future] | None = None  # (utterance, end sample, decode)
        self._speculate_after = max(self.asr.speculative_silence_ms * TARGET_RATE // 1000, self._pad)
        self._complete_after = self.asr.answer_complete_silence_ms * TARGET_RATE // 1000
        self._answers: Callable[[str], bool] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._finished = False

    # -- input ------------------------------------------------------------------------------

    def feed(self, pcm: bytes | bytearray | memoryview) -> list[VadEvent]:
        """PCM16 little-endian mono at ``sample_rate``; any frame size with an even byte count."""
        return self.feed_audio(pcm16_to_float32(pcm))

    def feed_audio(self, audio: np.ndarray) -> list[VadEvent]:
        """float32 samples at ``sample_rate``. Returns the VAD events this audio completed."""
        if self._finished:
            raise RuntimeError(f"{self.stream_id}: feed after finish()")
        return self._ingest(self._resampler.process(audio))

    def finish(self) -> None:
        """End of audio: close open speech, decode it, and end :meth:`events` after the last final."""
        if self._finished:
            return
        self._ingest(self._resampler.flush())
        self._finished = True
        for event in self._vad.finish():
            self._on_vad(event)
        self._track(asyncio.ensure_future(self._close_after_finals()))

    async def aclose(self) -> None:
        """finish() and wait until every final is delivered."""
        self.finish()
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def cancel(self) -> None:
        """The call is gone: drop queued work and stop the event stream now."""
        self._finished = True
        self.scheduler.cancel_stream(self.stream_id)
        for task in self._pending:
            task.cancel()
        self._queue.put_nowait(_DONE)

    # -- output -----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[AsrEvent]:
        """Every event in order, until finish() has delivered the last final."""
        while True:
            item = await self._queue.get()
            if item is _DONE:
                return
            yield item  # type: ignore[misc]

    def expect(self, prompt: str | None, min_silence_ms: int | None = None,
               complete: Callable[[str], bool] | None = None) -> None:
        """The next utterances answer a new question: prime the decoder for its answers and set
        the endpoint for them (longer while digits are dictated, shorter after a yes/no).
        ``complete(text)`` says whether words heard so far already answer it: then a pause ends
        the utterance sooner than the endpoint."""
        self.prompt = prompt
        self._answers = complete
        self._vad.set_min_silence_ms(min_silence_ms or self.vad_settings.min_silence_ms)

    @property
    def speaking(self) -> bool:
        return self._vad.speaking

    @property
    def position_s(self) -> float:
        """Seconds of audio analysed by the VAD so far."""
        return self._vad.position / TARGET_RATE

    # -- internals --------------------------------------------------------------------------

    def _emit(self, event: AsrEvent) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("on_event callback failed", extra={"context": {"stream": self.stream_id}})
        self._queue.put_nowait(event)

    def _ingest(self, audio16: np.ndarray) -> list[VadEvent]:
        self._ring.append(audio16)
        events = self._vad.process(audio16)
        for event in events:
            self._on_vad(event)
        pos = self._vad.position
        if self._utt_open:
            if pos - self._utt_start >= self._max_utt:
                # Whisper reads 30 s at most: cut a long monologue into finals, keep listening.
                self._submit_final(self._utt_start, pos)
                self._open_utterance(pos)
            elif self._speculate_after and self._vad.silence_samples >= self._speculate_after:
                self._speculate()
            elif self._speculative is not None and self._speculative[1] != self._vad.last_speech_end:
                self._speculative[2].cancel()  # the caller went on: free the worker for others
                self._speculative = None
            elif (
                self.partials
                and pos - self._last_partial_at >= self._partial_every
                and self._vad.last_probability >= self.vad_settings.threshold
            ):
                # Only while the caller is audibly talking: a partial started in a pause would hold
                # the worker when the endpoint fires and delay the final the dialog is waiting for.
                self._submit_partial(pos)
            self._ring.trim_before(self._utt_start - self._pad)
        else:
            self._ring.trim_before(self._ring.end - self._preroll)
        return events

    def _speculate(self) -> None:
        """Start the final decode in the caller's pause: if they stay silent to the endpoint the
        transcript is ready that much sooner; if they go on, the decode is dropped."""
        end = self._vad.last_speech_end
        if self._speculative is not None:
            utt, spec_end, future = self._speculative
            if utt == self._utt_id and spec_end == end:
                return
            future.cancel()  # the caller spoke again after that pause
        audio = self._ring.slice(self._utt_start - self._pad, end + self._pad)
        future = self.scheduler.submit_speculative(self.stream_id, audio, self.prompt)
        self._speculative = (self._utt_id, end, future)
        if self._answers is not None and self._complete_after:
            future.add_done_callback(partial(self._end_if_answered, self._answers, end))

    def _end_if_answered(self, complete: Callable[[str], bool], end: int, future: asyncio.Future) -> None:
        """The speculative text is in while the caller is still silent: if it already answers the
        question, this pause ends the utterance (at answer_complete_silence_ms) instead of the endpoint."""
        if future.cancelled() or future.exception() is not None:
            return
        current = self._speculative
        if current is None or current[2] is not future or not self._vad.speaking or self._vad.last_speech_end != end:
            return  # finalised meanwhile, or the caller went on
        result: Transcript | None = future.result()
        if result is None or not result.text or result.confidence < self.asr.min_confidence:
            return
        if echoes_prompt(result.text, self.prompt):
            return  # "Меня зовут," completed from the prompt as "Меня зовут Татьяна.": wait for the real name
        try:
            answered = complete(result.text)
        except Exception:
            log.exception("answer check failed", extra={"context": {"stream": self.stream_id}})
            return
        if answered:
            log.debug("answer complete: early endpoint", extra={"context": {"stream": self.stream_id}})
            self._vad.end_pause_after(self._complete_after)

    def _final_decode(self, start_sample: int, end_sample: int) -> asyncio.Future:
        """The speculative decode when it covers exactly this utterance, else a new final."""
        spec, self._speculative = self._speculative, None
        if spec is not None:
            utt, spec_end, future = spec
            if utt == self._utt_id and spec_end == end_sample and not future.cancelled():
                self.scheduler.promote(future)
                return future
            future.cancel()
        audio = self._ring.slice(start_sample - self._pad, end_sample + self._pad)
        return self.scheduler.submit_final(self.stream_id, audio, self.prompt)

    def _on_vad(self, event: VadEvent) -> None:
        self._emit(event)
        if isinstance(event, SpeechStarted):
            self._open_utterance(event.start_sample)
        elif isinstance(event, SpeechEnded) and self._utt_open:
            self._submit_final(self._utt_start, event.end_sample)

    def _open_utterance(self, start_sample: int) -> None:
        self._utt_id += 1
        self._utt_open = True
        self._utt_start = start_sample
        self._last_partial_at = start_sample

    def _submit_partial(self, pos: int) -> None:
        self._last_partial_at = pos
        self._partial_seq += 1
        audio = self._ring.slice(self._utt_start - self._pad, pos)
        future = self.scheduler.submit_partial(self.stream_id, audio, self.prompt)
        start = self._utt_start / TARGET_RATE
        self._track(asyncio.ensure_future(self._deliver_partial(future, self._utt_id, self._partial_seq, start, pos)))

    def _submit_final(self, start_sample: int, end_sample: int) -> None:
        future = self._final_decode(start_sample, end_sample)
        self._utt_open = False
        task = asyncio.ensure_future(
            self._deliver_final(future, self._last_final, start_sample / TARGET_RATE, end_sample / TARGET_RATE)
        )
        self._last_final = task
        self._track(task)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver_partial(self, future: asyncio.Future, utt_id: int, seq: int, start: float, pos: int) -> None:
        try:
            result: Transcript | None = await future
        except Exception:
            return  # logged by the scheduler; a lost partial is harmless
        if result is None or not result.text:
            return
        if not self._utt_open or utt_id != self._utt_id or seq <= self._emitted_partial_seq:
            return  # the utterance was finalised meanwhile, or a newer partial was shown
        self._emitted_partial_seq = seq
        self._emit(Partial(text=result.text, start=start, end=pos / TARGET_RATE))

    async def _deliver_final(
        self, future: asyncio.Future, previous: asyncio.Task[None] | None, start: float, end: float
    ) -> None:
        try:
            result: Transcript | None = await future
        except Exception as exc:
            log.error(
                "final decode failed",
                extra={"context": {"stream": self.stream_id, "error": str(exc), "start": start, "end": end}},
            )
            result = None
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)  # finals leave in utterance order
        start, end = round(start, 3), round(end, 3)
        if result is None or not result.text:
            self._emit(Discarded(start, end, "failed" if result is None else "empty"))
            return
        if result.confidence < self.asr.min_confidence:
            log.info(
                "final below min_confidence dropped",
                extra={"context": {"stream": self.stream_id, "confidence": result.confidence}},
            )
            self._emit(Discarded(start, end, "low_confidence"))
            return
        self._emit(Final(text=result.text, start=start, end=end, confidence=result.confidence))

    async def _close_after_finals(self) -> None:
        if self._last_final is not None:
            await asyncio.gather(self._last_final, return_exceptions=True)
        self._queue.put_nowait(_DONE)
