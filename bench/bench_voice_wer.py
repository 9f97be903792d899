"""How well a caller understands the agent's voice: WER of each voice heard back through Whisper.

    .venv/bin/python bench/bench_voice_wer.py            # every RHVoice voice and festival

The clinic profile's most frequent replies (normalised as the agent says them) are synthesised,
band-limited to 8 kHz, and transcribed by Whisper base, with and without the clinic prompt. WER
counts words after lower-casing, dropping punctuation and writing numbers as digits on both sides.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_asr_windows import wer
from salesagent.clinic.profile import load_profile
from salesagent.config import get_settings
from salesagent.speech.asr.prompt import vocabulary_prompt
from salesagent.speech.asr.whisper import FasterWhisperEngine
from salesagent.speech.audio import resample, resample_pcm16
from salesagent.speech.normalize import normalize
from salesagent.speech.tts.prerender import frequent_phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrases", type=int, default=30)
    args = parser.parse_args()
    from salesagent.speech.tts.festival import FestivalEngine
    from salesagent.speech.tts.rhvoice import RHVoiceEngine

    profile = load_profile(get_settings().profile_path)
    phrases = [normalize(p) for p in frequent_phrases(profile, args.phrases)][: args.phrases]
    asr = FasterWhisperEngine()
    prompt = vocabulary_prompt(profile, 300)
    rhvoice, festival = RHVoiceEngine(), FestivalEngine(pool_size=1)
    voices = [(rhvoice, v) for v in rhvoice.voices] + [(festival, None)]
    print(f"{len(phrases)} clinic replies at 8 kHz -> Whisper base int8")
    print("| voice | WER, no prompt | WER, clinic prompt |\n|---|---:|---:|")
    for engine, voice in voices:
        audio = []
        for phrase in phrases:
            pcm8 = resample_pcm16(engine.synthesize(phrase, voice), engine.sample_rate, 8000)
            audio.append(resample(np.frombuffer(pcm8, dtype="<i2"), 8000, 16000))
        wers = [wer(phrases, [asr.transcribe(a, p).text for a in audio]) for p in (None, prompt)]
        print(f"| {engine.name} {voice or engine.voices[0]} | {wers[0]:.1%} | {wers[1]:.1%} |")
    rhvoice.close()
    festival.close()


if __name__ == "__main__":
    main()
