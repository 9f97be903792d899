"""What the per-call engine needs of the stages around it, as Protocols.

The engine is written against these, never against Whisper, Piper or the dialog service, so a
test drives it with fakes (``tests/support/voice_fakes.py``) in virtual time, and the real stages
are swapped in by :mod:`salesagent.services.app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, runtime_checkable

from salesagent.dialog.session import Session
from salesagent.dialog.slots import CallStatus
from salesagent.speech.asr.streaming import AsrEvent
from salesagent.speech.vad import VadEvent


@runtime_checkable
class Transcriber(Protocol):
    """Recognition of one call leg (:class:`~salesagent.speech.asr.StreamingTranscriber`)."""

    @property
    def speaking(self) -> bool: ...

    @property
    def position_s(self) -> float: ...

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Inbound PCM16; returns the VAD events it completed at once (barge-in needs no wait)."""
        ...

    def events(self) -> AsyncIterator[AsrEvent]: ...

    def expect(self, prompt: str | None, min_silence_ms: int | None = None,
               complete: Callable[[str], bool] | None = None) -> None:
        """The agent asked a new question: the decoder prompt and the endpoint for its answer;
        ``complete(text)`` tells whether words heard so far already answer it (an earlier endpoint)."""
        ...

    def cancel(self) -> None: ...


#: (call id, inbound sample rate, decode partials?) -> a transcriber for that call
TranscriberFactory = Callable[[str, int, bool], Transcriber]


@runtime_checkable
class SpeechSynthesizer(Protocol):
    def stream(self, text: str, sample_rate: int) -> AsyncIterator[bytes]:
        """PCM16 mono chunks (~200 ms) of ``text`` spoken at ``sample_rate``."""
        ...


class AnswerCheck(Protocol):
    """``dialog.AnswerCheck``: whether ``text`` already answers the question of dialog ``state``."""

    def complete(self, state: str, text: str) -> bool: ...


class DialogPort(Protocol):
    """``dialog.DialogService``: one turn in, the reply out; the lead kept when the call ends."""

    async def handle(self, session_id: str, text: str, caller_id: str | None = None) -> Any: ...

    async def end_call(self, session_id: str, status: CallStatus = CallStatus.ABANDONED) -> Session | None: ...


class CallObserver(Protocol):
    """Live view of calls (the demo's terminal): ``kind`` is agent, caller, barge_in, backchannel,
    latency, silence_prompt or ended; ``data`` is JSON-able."""

    def on_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None: ...


class RecordSink(Protocol):
    """``notify.CallRecordStore``: where reports and recordings go."""

    def save_report(self, call_id: str, report: dict[str, Any]) -> Any: ...

    def save_recording(self, call_id: str, wav_bytes: bytes) -> Any: ...
