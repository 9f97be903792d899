"""faster-whisper (CTranslate2) from a LOCAL model folder: Whisper base int8 on CPU, large-v3-turbo on CUDA.

The engine is loaded once per process and shared by every call (see ``scheduler.py``); a model
per call would multiply RAM and CPU for nothing. The model is a path, never a hub name: a missing
folder stops start-up with one line pointing at ``scripts/setup.sh`` instead of a download.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import numpy as np

from salesagent.speech.asr.base import Segment, Transcript, combined_confidence
from salesagent.speech.asr.hallucinations import is_hallucination
from salesagent.speech.asr.prompt import echoes_prompt, prompt_names
from salesagent.speech.audio import TARGET_RATE, as_float32
from salesagent.speech.config import AsrSettings

log = logging.getLogger(__name__)

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
# Whisper's own rule for "this window was not speech" (as in openai/whisper's transcribe()).
NO_SPEECH_PROB = 0.6
LOGPROB_FLOOR = -1.0
COMPRESSION_CEILING = 2.4  # repetition loops compress well; real speech does not


class AsrConfigError(RuntimeError):
    """ASR cannot start as configured. The message is one line an operator can act on."""


def check_model_path(path: Path) -> Path:
    """A CTranslate2 Whisper folder with model.bin, config.json and tokenizer.json."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise AsrConfigError(
            f"ASR model folder {path} does not exist: run scripts/setup.sh or set SALESAGENT_ASR_MODEL_PATH"
        )
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        # Without tokenizer.json faster-whisper would fetch one from the hub: refuse instead.
        raise AsrConfigError(f"ASR model folder {path} lacks {', '.join(missing)} (not a CTranslate2 Whisper folder)")
    return path


def check_device(settings: AsrSettings) -> None:
    """Refuse CUDA when no CUDA device is visible, rather than crash on the first call."""
    if settings.device != "cuda":
        return
    import ctranslate2

    count = ctranslate2.get_cuda_device_count()
    if count == 0:
        raise AsrConfigError(
            "SALESAGENT_ASR_DEVICE=cuda but no CUDA device is visible (ctranslate2.get_cuda_device_count() == 0)"
        )
    if settings.device_index >= count:
        raise AsrConfigError(
            f"SALESAGENT_ASR_DEVICE_INDEX={settings.device_index} but only {count} CUDA device(s) are visible"
        )


FULL_WINDOW_S = 30.0
WINDOW_MARGIN_S = 1.0  # never cut speech: the window is at least the clip and one second more
FRAMES_PER_S = 100  # Whisper's mel hop is 10 ms


def encoder_window_s(clip_s: float, windows: tuple[float, ...]) -> float:
    """The smallest configured window that holds the clip with its margin, else the full 30 s."""
    fitting = [w for w in sorted(windows) if w >= clip_s + WINDOW_MARGIN_S and w < FULL_WINDOW_S]
    return fitting[0] if fitting else FULL_WINDOW_S


def _windowed_model_class():
    """``WhisperModel`` whose encoder sees the chosen window instead of 30 s of mostly padding.

    faster-whisper pads every segment's features to 3000 frames before ``encode``; CTranslate2's
    encoder accepts fewer. The window is per thread (several decode workers may run at once)."""
    from faster_whisper import WhisperModel

    class WindowedWhisperModel(WhisperModel):
        window = threading.local()

        def encode(self, features: np.ndarray):  # type: ignore[override]
            frames = getattr(self.window, "frames", None)
            if frames is not None and features.shape[-1] > frames:
                features = np.ascontiguousarray(features[..., :frames])
            return super().encode(features)

    return WindowedWhisperModel


class FasterWhisperEngine:
    """:class:`~salesagent.speech.asr.base.AsrEngine` over ``faster_whisper.WhisperModel``."""

    def __init__(self, settings: AsrSettings | None = None) -> None:
        self.settings = settings or AsrSettings()
        check_device(self.settings)
        self.model_path = check_model_path(self.settings.model_path)
        try:
            from faster_whisper.feature_extractor import FeatureExtractor

            WhisperModel = _windowed_model_class()
        except ImportError as exc:
            raise AsrConfigError("faster-whisper is not installed: pip install -e '.[speech]'") from exc
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every decode at INFO
        started = time.perf_counter()
        self._model = WhisperModel(
            str(self.model_path),
            device=self.settings.device,
            device_index=self.settings.device_index,
            compute_type=self.settings.effective_compute_type,
            cpu_threads=self.settings.cpu_threads,
            num_workers=self.settings.workers,
            local_files_only=True,
        )
        n_mels = self._model.model.n_mels
        if self._model.feature_extractor.mel_filters.shape[0] != n_mels:
            # large-v3(-turbo) wants 128 mel bins; a folder without preprocessor_config.json gets 80.
            self._model.feature_extractor = FeatureExtractor(feature_size=n_mels)
        self.load_s = time.perf_counter() - started
        s = self.settings
        self.name = f"faster-whisper:{self.model_path.name}:{s.device}:{s.effective_compute_type}"
        log.info(
            "ASR model loaded",
            extra={"context": {"engine": self.name, "load_s": round(self.load_s, 3), "n_mels": n_mels}},
        )

    def _token_budget(self, clip_s: float, prompt: str | None) -> int:
        """New tokens a clip may need; a repetition loop ends there. Whisper's 448 positions hold
        the prompt (at most its last 223 tokens) and the answer together."""
        prompt_tokens = min(223, len(self._model.hf_tokenizer.encode(" " + prompt.strip()).ids)) if prompt else 0
        room = self._model.max_length - prompt_tokens - 8  # <|startofprev|>, SOT, language, task, ...
        return max(1, min(room, int(clip_s * self.settings.max_tokens_per_s) + 10))

    def _decode(self, audio: np.ndarray, prompt: str | None) -> tuple[list[Segment], list[str], bool]:
        """(segments kept, texts dropped, whether a dropped one was a repetition loop)."""
        s = self.settings
        window_s = encoder_window_s(audio.size / TARGET_RATE, s.encoder_windows_s)
        self._model.window.frames = int(window_s * FRAMES_PER_S) if window_s < FULL_WINDOW_S else None
        raw_segments, _info = self._model.transcribe(
            audio,
            language=s.language,
            beam_size=s.beam_size,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
            vad_filter=False,  # our VAD already cut the clip
            without_timestamps=not s.timestamps,
            temperature=list(s.temperatures) or [0.0],
            max_new_tokens=self._token_budget(audio.size / TARGET_RATE, prompt),
            compression_ratio_threshold=COMPRESSION_CEILING,
            log_prob_threshold=LOGPROB_FLOOR,
            no_speech_threshold=NO_SPEECH_PROB,
        )
        kept: list[Segment] = []
        dropped: list[str] = []
        looped = False
        for raw in raw_segments:
            seg = Segment(
                text=raw.text.strip(),
                start=float(raw.start),
                end=float(raw.end),
                avg_logprob=float(raw.avg_logprob),
                no_speech_prob=float(raw.no_speech_prob),
                compression_ratio=float(raw.compression_ratio),
            )
            if not seg.text:
                continue
            if (
                is_hallucination(seg.text)
                or (seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOGPROB_FLOOR)
                or seg.compression_ratio > COMPRESSION_CEILING
            ):
                dropped.append(seg.text)
                looped = looped or seg.compression_ratio > COMPRESSION_CEILING
                continue
            kept.append(seg)
        return kept, dropped, looped

    def _unless_echo(self, audio: np.ndarray, prompt: str, kept: list, text: str) -> tuple[list, str]:
        """A name the prompt offered ("Меня зовут Татьяна." for a caller who paused after "Меня
        зовут,") is checked by a decode without the prompt: kept if that decode hears it too,
        else the prompt-free text stands (a wrong name in a lead is worse than a plainer transcript)."""
        plain, _dropped, _looped = self._decode(audio, None)
        plain_text = " ".join(seg.text for seg in plain).strip()
        echoed = {w.lower()[:4] for w in prompt_names(text, prompt)}
        if echoed <= {w.lower()[:4] for w in re.findall(r"[А-ЯЁа-яё]+", plain_text)}:
            return kept, text
        log.info("ASR: a name from the prompt not heard without it", extra={"context": {"names": sorted(echoed)}})
        return plain, plain_text

    def transcribe(self, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        """Decode one clip; drop silence phrases and no-speech segments; never raises on silence.

        A prompt can pull Whisper into a loop ("один, два, три, ..." over and over after a prompt
        full of digits); a looping decode is dropped, and then the clip is decoded once more
        without the prompt rather than losing what the caller said."""
        audio = as_float32(audio)
        started = time.perf_counter()
        if audio.size < TARGET_RATE // 10:  # < 100 ms: nothing Whisper can read
            return Transcript("", (), 0.0, audio.size / TARGET_RATE, 0.0)
        kept, dropped, looped = self._decode(audio, prompt)
        if not kept and looped and prompt:
            kept, dropped_again, _looped = self._decode(audio, None)
            dropped += dropped_again
        text = " ".join(seg.text for seg in kept).strip()
        if prompt and echoes_prompt(text, prompt):
            kept, text = self._unless_echo(audio, prompt, kept, text)
        decode_s = time.perf_counter() - started
        if dropped:
            log.info("ASR dropped segments", extra={"context": {"dropped": dropped}})
        return Transcript(
            text=text,
            segments=tuple(kept),
            confidence=round(combined_confidence(kept), 4),
            audio_s=audio.size / TARGET_RATE,
            decode_s=decode_s,
            dropped=tuple(dropped),
        )
