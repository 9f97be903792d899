"""Does Smart Turn v3.2 tell a finished Russian answer from an unfinished one on a phone line?
And how does the engine's own text check (dialog.AnswerCheck on Whisper's transcript) compare?

Issue 11 asked to evaluate Pipecat's Smart Turn v3.2 on phone-band audio and adopt it only if it
helps at 8 kHz. Its model ships inside the ``pipecat-ai`` wheel (BSD-2); this bench reads the ONNX
model and the numpy feature code straight out of that wheel (no pipecat import, no download):

    pip download --no-deps pipecat-ai==1.14.0 -d /tmp/st
    python bench/bench_smart_turn.py --wheel /tmp/st/pipecat_ai-1.14.0-py3-none-any.whl

Clips: answers to the clinic's questions, each whole and cut where callers pause (a phone number
after two groups, "Меня зовут", "Да, но"), spoken by four caller voices (festival and RHVoice,
pitch- and tempo-shifted) at 16 kHz wideband and at 8 kHz telephone band (300-3400 Hz). Printed:
mean P(complete) per class, accuracy at 0.5 and ROC AUC per band; the same for AnswerCheck on the
Whisper base transcript of the 8 kHz clip (the signal the agent uses, after the 200 ms speculative
decode). Caveat: synthetic voices end a cut phrase with a falling, final-sounding contour; a real
caller's unfinished phrase often does not, so Smart Turn's figures here are a lower bound.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from salesagent.clinic.profile import load_profile
from salesagent.dialog.answer_check import AnswerCheck
from salesagent.speech.asr.caller_voice import synthesize_caller
from salesagent.speech.audio import resample

MODEL = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
FEATURES = "pipecat/audio/turn/smart_turn/_whisper_features.py"
VOICES = [("festival", 250, 1.1), ("rhvoice:anna", -100, 1.0), ("rhvoice:aleksandr", 200, 1.05),
          ("rhvoice:elena", -250, 0.95)]
# (question state, the whole answer, the same answer cut where callers pause)
ANSWERS = [
    ("ASK_PHONE", "Восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь.",
     "Восемь девятьсот шестнадцать сто двадцать три,"),
    ("ASK_CLIENT_NAME", "Меня зовут Ольга Сергеевна.", "Меня зовут,"),
    ("CONFIRM_TIME", "Да, это время подходит.", "Да, но у меня,"),
    ("ASK_APPOINTMENT_DATE", "Давайте в пятницу в десять утра.", "Давайте в пятницу в,"),
    ("ASK_AGE_WEIGHT", "Мне сорок пять лет, вес восемьдесят килограммов.", "Мне сорок пять лет, а вес,"),
    ("ASK_SYMPTOMS_DURATION", "Болит уже две недели.", "Болит уже, ну,"),
    ("OFFER_VIDEO_CONCLUSION", "Нет, спасибо, не нужно.", "Нет, а сколько,"),
    ("ASK_VISITED_DOCTOR", "Да, я была у невролога.", "Да, я была у,"),
    ("ASK_STUDY_DECISION", "Да, записывайте меня на МРТ.", "Да, записывайте меня на,"),
    ("CHECK_DISCOUNTS", "Нет, скидок у меня нет.", "Нет, хотя подождите,"),
]


class SmartTurn:
    """The ONNX model and its numpy feature code, read out of the pipecat-ai wheel."""

    def __init__(self, wheel: Path, workdir: Path) -> None:
        import onnxruntime as ort

        with zipfile.ZipFile(wheel) as zf:
            model = workdir / "smart-turn.onnx"
            model.write_bytes(zf.read(MODEL))
            features = workdir / "whisper_features.py"
            features.write_bytes(zf.read(FEATURES))
        spec = importlib.util.spec_from_file_location("smart_turn_features", features)
        assert spec and spec.loader
        self._features = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self._features)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), sess_options=options)

    def p_complete(self, audio16k: np.ndarray) -> float:
        """As pipecat's LocalSmartTurnAnalyzerV3: the last 8 s, zero-padded in front, log-mel."""
        n = 8 * 16000
        clip = audio16k[-n:] if audio16k.size > n else np.pad(audio16k, (n - audio16k.size, 0))
        mel = self._features.compute_whisper_log_mel_features(clip.astype(np.float32), do_normalize=True)
        out = self._session.run(None, {"input_features": np.expand_dims(mel, 0)})
        return float(np.asarray(out[0]).reshape(-1)[0])


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC: the chance a complete clip scores above an unfinished one (ties count half)."""
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def _row(name: str, pos: list[float], neg: list[float]) -> str:
    acc = (sum(p > 0.5 for p in pos) + sum(q <= 0.5 for q in neg)) / (len(pos) + len(neg))
    return (f"| {name} | {np.mean(pos):.2f} | {np.mean(neg):.2f} | {acc:.0%} | {auc(pos, neg):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="pipecat_ai-1.14.0-py3-none-any.whl")
    parser.add_argument("--no-asr", action="store_true", help="skip the Whisper + AnswerCheck column")
    args = parser.parse_args()
    if not args.wheel.is_file():
        sys.exit(f"bench_smart_turn: no such wheel: {args.wheel}")
    workdir = Path(tempfile.mkdtemp(prefix="smart-turn-"))
    model = SmartTurn(args.wheel, workdir)
    whisper = prompts = None
    if not args.no_asr:
        from salesagent.speech.asr.prompt import QuestionPrompts
        from salesagent.speech.asr.whisper import FasterWhisperEngine
        from salesagent.speech.config import AsrSettings

        whisper = FasterWhisperEngine(AsrSettings(workers=1))
        prompts = QuestionPrompts(load_profile(None))
    check = AnswerCheck(load_profile(None))
    scores: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in ("16k", "8k", "text")}
    started, infer = time.perf_counter(), []
    for state, whole, cut in ANSWERS:
        for voice, pitch, tempo in VOICES:
            for text, bucket in ((whole, 0), (cut, 1)):
                wide = synthesize_caller(text, rate=16000, telephone=False, voice=voice, pitch_cents=pitch,
                                         tempo=tempo)
                line = synthesize_caller(text, rate=8000, telephone=True, voice=voice, pitch_cents=pitch,
                                         tempo=tempo)  # 8 kHz, 300-3400 Hz, as the line delivers it
                phone = resample(line, 8000, 16000)  # as the agent hands it to its models
                t = time.perf_counter()
                scores["16k"][bucket].append(model.p_complete(wide))
                infer.append(time.perf_counter() - t)
                scores["8k"][bucket].append(model.p_complete(phone))
                if whisper is not None:
                    heard = whisper.transcribe(phone, prompts.for_question(state)).text
                    scores["text"][bucket].append(float(check.complete(state, heard)))
    print(f"{len(ANSWERS)} answers x {len(VOICES)} voices, whole and cut; Smart Turn "
          f"{1000 * np.median(infer):.0f} ms per call (1 thread); {time.perf_counter() - started:.0f} s in all\n")
    print("| signal | mean P(complete), whole | mean P(complete), cut | accuracy at 0.5 | ROC AUC |")
    print("|---|---:|---:|---:|---:|")
    print(_row("Smart Turn v3.2, 16 kHz wideband", *scores["16k"]))
    print(_row("Smart Turn v3.2, 8 kHz telephone band", *scores["8k"]))
    if scores["text"][0]:
        print(_row("AnswerCheck on Whisper base's transcript (8 kHz)", *scores["text"]))


if __name__ == "__main__":
    main()
