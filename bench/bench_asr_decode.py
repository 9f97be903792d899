"""Whisper's decode options on caller answers, in one run: prompt kind, beam, temperature fallback.

    .venv/bin/python bench/bench_asr_decode.py                  # tuning split, all configurations
    .venv/bin/python bench/bench_asr_decode.py --split heldout  # bench_asr_windows.py's lines

Tuning lines (``bench/data/asr_tuning_lines.tsv``) carry the dialog state whose question they
answer, so the per-question prompt (the profile's ``asr_prompts`` hint plus the question asked)
can be compared with the fixed clinic prompt and with none. The held-out split is the 20 lines of
``bench_asr_windows.py`` (never used to choose a setting) with the state they answer. Callers
speak in festival and RHVoice voices other than the agent's, pitch- and tempo-shifted, 8 kHz
telephone band. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_asr_windows import LINES, wer
from salesagent.clinic.profile import load_profile
from salesagent.config import get_settings
from salesagent.speech.asr.caller_voice import synthesize_caller
from salesagent.speech.asr.prompt import QuestionPrompts, vocabulary_prompt
from salesagent.speech.asr.whisper import FasterWhisperEngine
from salesagent.speech.audio import resample
from salesagent.speech.config import AsrSettings

TUNING = Path(__file__).resolve().parent / "data" / "asr_tuning_lines.tsv"
HELDOUT_STATES = [  # the question each bench_asr_windows.py line answers
    "ASK_STUDY_REQUEST", "ASK_SYMPTOMS_DURATION", "ASK_APPOINTMENT_DATE", "ASK_CLIENT_NAME", "ASK_PHONE",
    "CHECK_DISCOUNTS", "CHECK_CONTRAINDICATIONS", "ASK_AGE_WEIGHT", "GREETING", "ASK_APPOINTMENT_DATE",
    "ASK_AGE_WEIGHT", "ASK_SYMPTOMS_DURATION", "CHECK_CONTRAINDICATIONS", "ASK_STUDY_DECISION",
    "CONFIRM_APPOINTMENT", "ASK_STUDY_DECISION", "OFFER_APPOINTMENT_TIMES", "CONFIRM_APPOINTMENT",
    "ASK_CLIENT_NAME", "ASK_APPOINTMENT_DATE",
]
VOICES = [("festival", 250, 1.1), ("rhvoice:anna", -100, 1.0), ("rhvoice:aleksandr", 200, 1.05),
          ("rhvoice:elena", -250, 0.95)]
CONFIGS = [  # label, prompt kind, beam, temperatures
    ("profile asr_prompt, beam 5, fallback", "clinic", 5, (0.0, 0.2, 0.4)),
    ("no prompt, beam 5, fallback", "none", 5, (0.0, 0.2, 0.4)),
    ("question prompt, beam 5, fallback", "question", 5, (0.0, 0.2, 0.4)),
    ("question prompt, beam 5, no fallback", "question", 5, (0.0,)),
    ("question prompt, beam 3, no fallback", "question", 3, (0.0,)),
    ("question prompt, beam 1, no fallback", "question", 1, (0.0,)),
    ("profile asr_prompt, beam 5, no fallback (WS /ws/transcribe: no question known)", "clinic", 5, (0.0,)),
    ("no prompt, beam 5, no fallback", "none", 5, (0.0,)),
]


def load_split(split: str) -> list[tuple[str, str]]:
    if split == "heldout":
        return list(zip(HELDOUT_STATES, LINES, strict=True))
    rows = [line.split("\t") for line in TUNING.read_text("utf-8").splitlines() if line and not line.startswith("#")]
    return [(state, text) for state, text in rows]


def question_of(profile, state: str) -> str:
    """The state's first wording, placeholders dropped (the live agent passes the spoken reply)."""
    import re

    variants = profile.templates.states.get(state) or [""]
    return re.sub(r"\{[^}]*\}", "", variants[0]).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["tuning", "heldout"], default="tuning")
    parser.add_argument("--voices", type=int, default=len(VOICES))
    parser.add_argument("--configs", type=int, nargs="*", default=None, help="indexes into CONFIGS")
    parser.add_argument("--prompt", action="append", default=[],
                        help="a prompt to try for every answer, beam 5, no fallback (repeatable: one row each)")
    args = parser.parse_args()
    profile = load_profile(get_settings().profile_path)
    engine = FasterWhisperEngine(AsrSettings())
    prompts = QuestionPrompts(profile, engine.settings.prompt_max_chars)
    stream_prompt = vocabulary_prompt(profile, engine.settings.stream_prompt_max_chars)  # WS /ws/transcribe's
    rows = load_split(args.split)
    clips = []
    for voice, pitch, tempo in VOICES[: args.voices]:
        for state, text in rows:
            audio8 = synthesize_caller(text, rate=8000, pitch_cents=pitch, tempo=tempo, voice=voice)
            clips.append((state, text, resample(audio8, 8000, 16000)))
    engine.transcribe(clips[0][2], None)  # warm up
    print(f"{len(clips)} caller answers ({args.split} split), {engine.name}")
    print("| configuration | WER | decode p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    chosen = [CONFIGS[i] for i in args.configs] if args.configs is not None else CONFIGS
    chosen = chosen + [(f"--prompt {i + 1}: {text[:40]}...", f"custom{i}", 5, (0.0,))
                       for i, text in enumerate(args.prompt)]
    for label, kind, beam, temps in chosen:
        engine.settings.beam_size, engine.settings.temperatures = beam, temps
        hyps, times = [], []
        for state, _text, audio in clips:
            prompt = {"clinic": stream_prompt, "none": None, **{f"custom{i}": t for i, t in enumerate(args.prompt)},
                      "question": prompts.for_question(state, question_of(profile, state))}[kind]
            started = time.perf_counter()
            hyps.append(engine.transcribe(audio, prompt).text)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"| {label} | {wer([t for _s, t, _a in clips], hyps):.1%} | {statistics.median(times):.0f} | "
              f"{p95:.0f} | {times[-1]:.0f} |", flush=True)


if __name__ == "__main__":
    main()
