"""Settings of the "ears": VAD, ASR engine, streaming and the ASR gateway.

Everything is an environment variable so the same code runs Whisper base on a laptop CPU and
large-v3-turbo on a GPU by configuration only. Values are validated at start: a bad value stops
the process with the variable's name rather than misbehaving in the middle of a call.

Prefixes: ``SALESAGENT_VAD_`` (:class:`VadSettings`), ``SALESAGENT_ASR_`` (:class:`AsrSettings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Where ``scripts/setup.d/20-asr-models.sh`` puts Whisper base (relative to the repository root).
DEFAULT_MODEL_SUBDIR = Path("models") / "whisper-base"


def _repo_root() -> Path:
    """The source checkout this package runs from (src layout, installed editable)."""
    return Path(__file__).resolve().parents[3]


def default_model_path() -> Path:
    """``./models/whisper-base`` if present, else the checkout's ``models/whisper-base``."""
    here = Path.cwd() / DEFAULT_MODEL_SUBDIR
    return here if here.is_dir() else _repo_root() / DEFAULT_MODEL_SUBDIR


class VadSettings(BaseSettings):
    """Silero VAD on 32 ms windows of 16 kHz audio, with hysteresis.

    ``threshold`` opens speech, ``neg_threshold`` (lower) is what counts as silence while speech
    is open; the gap keeps one word from being split by a soft consonant.
    """

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_VAD_", extra="ignore")

    threshold: float = Field(default=0.5, gt=0.0, lt=1.0, description="Speech probability that opens speech.")
    neg_threshold: float | None = Field(
        default=None, gt=0.0, lt=1.0, description="Probability below which audio is silence (threshold-0.15)."
    )
    min_speech_ms: int = Field(
        default=96, ge=32, le=2000, description="Speech this long before SpeechStarted (barge-in latency)."
    )
    min_silence_ms: int = Field(
        default=500, ge=64, le=5000, description="Silence this long ends the utterance (endpointing)."
    )
    speech_pad_ms: int = Field(default=200, ge=0, le=1000, description="Audio kept around speech for ASR.")

    @model_validator(mode="after")
    def _neg_below_threshold(self) -> VadSettings:
        if self.neg_threshold is None:
            self.neg_threshold = max(0.01, self.threshold - 0.15)
        if self.neg_threshold > self.threshold:
            raise ValueError(
                f"SALESAGENT_VAD_NEG_THRESHOLD={self.neg_threshold} must not exceed "
                f"SALESAGENT_VAD_THRESHOLD={self.threshold}"
            )
        return self


class AsrSettings(BaseSettings):
    """faster-whisper from a LOCAL CTranslate2 folder; the streaming and gateway knobs."""

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_ASR_", extra="ignore")

    model_path: Path = Field(
        default_factory=default_model_path,
        description="CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json). Never a hub name.",
    )
    device: Literal["cpu", "cuda"] = "cpu"
    device_index: int = Field(default=0, ge=0)
    compute_type: str = Field(
        default="", description="CTranslate2 compute type; empty: int8 on CPU, int8_float16 on CUDA."
    )
    cpu_threads: int = Field(default=0, ge=0, description="Threads per decode; 0: CTranslate2's default.")
    workers: int = Field(
        default=2, ge=1, le=16,
        description="Decodes run at once on the ONE shared model (calls share them). Two on two cores: a "
        "caller's final no longer waits behind another call's decode, and a decode alone still has both "
        "cores (6 simulated calls: voice-to-voice p50 806 / p95 1883 ms vs 1050-1099 / 2548-2794 with one "
        "worker; two workers of one thread each: 975 / 1969).",
    )
    beam_size: int = Field(default=5, ge=1, le=10)
    temperatures: tuple[float, ...] = Field(
        default=(0.0,),
        description="Whisper's temperature fallback: each extra value is a whole extra decode (sampled, best of "
        "5) when the previous one looks like a loop or is unsure. Measured on caller answers "
        "(bench/bench_asr_decode.py): (0, 0.2, 0.4) gave the same WER with decodes up to 11 s; one value never "
        "decodes twice, and max_tokens_per_s bounds a loop.",
    )
    max_tokens_per_s: float = Field(
        default=15.0,
        ge=2.0,
        le=100.0,
        description="Tokens a decode may produce per second of audio (plus 10): a repetition loop stops there "
        "instead of running to Whisper's 448 tokens. Fast Russian speech is ~8 tokens/s.",
    )
    encoder_windows_s: tuple[float, ...] = Field(
        default=(10.0, 15.0, 20.0),
        description="Encoder windows (seconds) to choose from, the smallest at least the clip + 1 s; longer clips "
        "get Whisper's full 30 s. Empty: always 30 s. A 3 s answer decodes in under half the time at the same WER "
        "(bench/bench_asr_windows.py, docs/speech-asr.md); 8 s windows lost words with the clinic prompt.",
    )
    timestamps: bool = Field(
        default=False,
        description="Decode Whisper's timestamp tokens. Nothing reads them (the VAD times utterances), and "
        "with a window under 30 s they cost words.",
    )
    language: str = "ru"
    use_profile_prompt: bool = Field(
        default=True, description="Prime Whisper with the clinic profile's vocabulary (МРТ, КТ, ...)."
    )
    prompt_max_chars: int = Field(
        default=300, ge=0, le=1000, description="Prompt tokens cost decode time (300 chars: up to +40% per decode)."
    )
    stream_prompt_max_chars: int = Field(
        default=500, ge=0, le=1000,
        description="The profile's asr_prompt for a stream whose question is unknown (WS /ws/transcribe without "
        "'expect'): it covers every answer, so it may be longer (held-out WER 19.7% vs 29.0%, ~+10% decode time).",
    )
    partial_interval_ms: int = Field(
        default=0,
        ge=0,
        description="Audio between partial decodes; 0: 120 ms on CUDA, 1000 ms on CPU (a decode costs ~0.6 s).",
    )
    speculative_silence_ms: int = Field(
        default=200,
        ge=0,
        le=2000,
        description="Start the final decode this far into a pause (at least speech_pad_ms), before the endpoint; "
        "kept when the caller stays silent, dropped when they go on. 0: decode only at the endpoint.",
    )
    answer_complete_silence_ms: int = Field(
        default=250,
        ge=0,
        le=2000,
        description="When the speculative decode of a pause already answers the question just asked (a yes/no, "
        "a full phone number, a name, a date: the dialog's rule check), the pause ends the turn after this much "
        "silence instead of the full endpoint. 0: always wait for the endpoint. Needs speculative_silence_ms.",
    )
    partials: bool = Field(default=True, description="Decode partial transcripts while the caller speaks.")
    max_utterance_s: float = Field(
        default=25.0, ge=2.0, le=29.0, description="Force a final before Whisper's 30 s window is full."
    )
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Finals below this confidence are dropped as noise."
    )
    resample_quality: Literal["QQ", "LQ", "MQ", "HQ", "VHQ"] = Field(
        default="QQ",
        description="soxr quality for 8 kHz -> 16 kHz. QQ holds back 0.25 ms, so barge-in stays under 200 ms (LQ "
        "hands audio to the VAD in 60 ms bursts: about 1 barge-in in 20 went past 200 ms); measured on 20 caller "
        "lines, Whisper base WER 19.1% with QQ vs 27.3% with LQ.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8091, ge=1, le=65535)
    engine: Literal["faster-whisper", "remote"] = Field(
        default="faster-whisper",
        description="Where final decodes run: this process (faster-whisper) or an ASR gateway's WS /ws/decode "
        "(remote: one ASR server, e.g. a GPU host, for every agent worker).",
    )
    remote_url: str = Field(default="", description="The ASR gateway for engine=remote, e.g. ws://10.0.0.5:8091.")
    remote_token: str | None = Field(default=None, description="API token of that gateway (sent as ?token=).")
    remote_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Connect and per-clip reply timeout.")

    @property
    def effective_compute_type(self) -> str:
        return self.compute_type or ("int8_float16" if self.device == "cuda" else "int8")

    @property
    def effective_partial_interval_ms(self) -> int:
        return self.partial_interval_ms or (120 if self.device == "cuda" else 1000)
