"""How well a caller understands the agent's voice: WER of each voice heard back through Whisper.

    .venv/bin/python bench/bench_voice_wer.py            # every RHVoice voice and festival
    .venv/bin/python bench/bench_voice_wer.py --split heldout --rates 0 -0.2 --voices irina elena

``--split heldout`` uses sentences written for this bench only (an administrator's lines with
prices, dates, times and names that are not in the profile), so a choice made on the profile's
replies is checked on text it was not chosen on.

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

HELDOUT = [
    "Ваша запись подтверждена на четырнадцатое января в 9:40.",
    "Стоимость исследования составит 3 750 рублей.",
    "Пожалуйста, приходите за пятнадцать минут до начала.",
    "Результаты будут готовы в течение двух рабочих дней.",
    "У нас свободно окно в среду в 16:20 или в пятницу в 11:00.",
    "Скажите, пожалуйста, дату вашего рождения.",
    "Я правильно записала ваш номер: 8 915 402-17-36?",
    "Перед исследованием нельзя есть четыре часа.",
    "Возьмите с собой паспорт и направление от врача.",
    "Скидка для пенсионеров составляет пятнадцать процентов.",
    "К сожалению, на субботу всё уже занято.",
    "Наш центр находится на Садовой улице, дом 7.",
    "Вы можете оплатить картой или наличными на месте.",
    "Исследование длится около сорока минут.",
    "Если планы изменятся, позвоните нам заранее.",
    "Доктор Смирнова принимает по вторникам и четвергам.",
    "Запись на утро второго марта, всё верно?",
    "Для ребёнка нужно согласие одного из родителей.",
    "Я отправлю вам сообщение с адресом и временем.",
    "Спасибо за звонок, хорошего вам дня!",
]


def _phrases(split: str, count: int) -> list[str]:
    if split == "heldout":
        return [normalize(p) for p in HELDOUT]
    profile = load_profile(get_settings().profile_path)
    return [normalize(p) for p in frequent_phrases(profile, count)][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrases", type=int, default=30)
    parser.add_argument("--split", choices=["profile", "heldout"], default="profile")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0], help="RHVoice absolute rates (-1..1)")
    parser.add_argument("--voices", nargs="*", default=None, help="RHVoice voices (default: all, and festival)")
    args = parser.parse_args()
    from salesagent.speech.tts.festival import FestivalEngine
    from salesagent.speech.tts.rhvoice import RHVoiceEngine

    profile = load_profile(get_settings().profile_path)
    phrases = _phrases(args.split, args.phrases)
    asr = FasterWhisperEngine()
    prompt = vocabulary_prompt(profile, 300)
    rhvoice = RHVoiceEngine()
    festival = FestivalEngine(pool_size=1) if args.voices is None else None
    voices = [(rhvoice, v, r) for v in (args.voices or rhvoice.voices) for r in args.rates]
    voices += [(festival, None, 0.0)] if festival is not None else []
    print(f"{len(phrases)} sentences ({args.split}) at 8 kHz -> Whisper base int8")
    print("| voice | rate | WER, no prompt | WER, clinic prompt |\n|---|---:|---:|---:|")
    for engine, voice, rate in voices:
        engine.rate = rate
        audio = []
        for phrase in phrases:
            pcm8 = resample_pcm16(engine.synthesize(phrase, voice), engine.sample_rate, 8000)
            audio.append(resample(np.frombuffer(pcm8, dtype="<i2"), 8000, 16000))
        wers = [wer(phrases, [asr.transcribe(a, p).text for a in audio]) for p in (None, prompt)]
        print(f"| {engine.name} {voice or engine.voices[0]} | {rate:+.2f} | {wers[0]:.1%} | {wers[1]:.1%} |",
              flush=True)
    rhvoice.close()
    if festival is not None:
        festival.close()


if __name__ == "__main__":
    main()
