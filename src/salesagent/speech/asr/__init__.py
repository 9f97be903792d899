"""Speech recognition: the engine Protocol, faster-whisper, the shared decode scheduler, streaming.

Typical use (no WebSocket needed)::

    engine = FasterWhisperEngine(AsrSettings())          # once per process
    scheduler = DecodeScheduler(engine, workers=1)        # once per event loop
    stream = StreamingTranscriber(scheduler, sample_rate=8000, prompt=vocabulary_prompt(profile))
    stream.feed(pcm_bytes)                                # returns VAD events at once (barge-in)
    async for event in stream.events(): ...               # SpeechStarted/Partial/SpeechEnded/Final
"""

from salesagent.speech.asr.base import AsrEngine, Segment, SpeechRecognizer, Transcript
from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.scheduler import DecodeScheduler
from salesagent.speech.asr.streaming import AsrEvent, Discarded, Final, Partial, StreamingTranscriber
from salesagent.speech.asr.whisper import AsrConfigError, FasterWhisperEngine

__all__ = [
    "AsrConfigError",
    "AsrEngine",
    "AsrEvent",
    "DecodeScheduler",
    "Discarded",
    "FasterWhisperEngine",
    "Final",
    "Partial",
    "Segment",
    "SpeechRecognizer",
    "StreamingTranscriber",
    "Transcript",
    "vocabulary_prompt",
]
