"""Voice pipeline settings (``SALESAGENT_VOICE_*``), validated once at start.

Turn-taking numbers live here because they are policy a clinic tunes (how patient the agent is
with a silent caller, what counts as "угу" rather than an interruption), not code.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BACKCHANNELS = (
    "угу", "ага", "да-да", "да да", "так", "понятно", "ясно", "хорошо", "ну", "мм", "м-м", "угу-угу", "ага-ага",
)
# A stretch too short to be more than a backchannel is still an answer when its transcript holds
# one of these: "Да." / "Нет." over the end of "... Верно?". Only these: Whisper base writes a
# festival "Угу." as "Собро.", so any other words would turn a backchannel into a turn.
DEFAULT_SHORT_ANSWERS = ("да", "нет", "верно", "неверно", "конечно", "подходит", "согласна", "согласен")

#: Answers dictated in groups with pauses between them get a longer endpoint; yes/no a shorter one.
DEFAULT_ANSWER_ENDPOINTS_MS = {
    "ASK_PHONE": 700, "ASK_AGE_WEIGHT": 600, "ASK_APPOINTMENT_DATE": 600, "ASK_CLIENT_NAME": 600,
    "RECOMMEND_STUDY": 400, "ASK_STUDY_DECISION": 400, "OFFER_VIDEO_CONCLUSION": 400,
    "ANNOUNCE_MEDIA_PRICE": 400, "CONFIRM_TIME": 400, "ASK_VISITED_DOCTOR": 400, "CONFIRM_APPOINTMENT": 400,
}


class VoiceSettings(BaseSettings):
    """How the agent takes turns on the phone."""

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_VOICE_", extra="ignore", env_file=".env")

    # -- barge-in ---------------------------------------------------------------------------------
    min_interruption_ms: int = Field(
        default=0,
        ge=0,
        le=3000,
        description="Caller speech needed (beyond the VAD's own min_speech_ms) before the agent stops talking. "
        "0 = stop at the VAD's speech start (meets the 200 ms barge-in budget).",
    )
    backchannel_max_ms: int = Field(
        default=600,
        ge=0,
        le=3000,
        description="Caller speech over the agent shorter than this is a backchannel: the agent resumes.",
    )
    backchannel_words: str = Field(
        default=",".join(DEFAULT_BACKCHANNELS),
        description="Comma-separated: utterances made only of these words do not interrupt the agent.",
    )
    short_answer_words: str = Field(
        default=",".join(DEFAULT_SHORT_ANSWERS),
        description="Comma-separated: a stretch shorter than backchannel_max_ms whose transcript has one of these "
        "words is a turn (a quick \"Да.\" over the question), not a backchannel.",
    )
    resume_after_backchannel: bool = Field(
        default=True, description="After a backchannel the agent goes on from the first sample the caller did not hear."
    )
    final_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=120,
        description="An utterance that ended but whose transcript never came is given up after this long "
        "(the ASR normally says 'discarded' itself); the agent then resumes if the speech had stopped it.",
    )
    max_turn_hold_s: float = Field(
        default=15.0,
        gt=0,
        le=120,
        description="A caller turn goes to the dialog at the latest this long after its first transcript, "
        "even if the line keeps making a sound.",
    )
    dialog_drain_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="When the call ends, a dialog step still running gets this long to save the session "
        "before the lead is closed.",
    )
    endpointing: str = Field(
        default="fixed", description="Endpointing strategy: 'fixed' (the same hold after every final)."
    )
    endpointing_delay_ms: int = Field(
        default=0,
        ge=0,
        le=3000,
        description="Hold after a final (and the caller's last sound) before the turn goes to the dialog, "
        "to join a caller who keeps talking.",
    )
    answer_endpoints_ms: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_ANSWER_ENDPOINTS_MS),
        description="Silence that ends the caller's answer, per dialog state (the question just asked); "
        "other states use SALESAGENT_VAD_MIN_SILENCE_MS. Long while a phone number, a date or an age is "
        "dictated in groups, short after a yes/no question. JSON, e.g. '{\"ASK_PHONE\": 900}'.",
    )
    # -- silence ----------------------------------------------------------------------------------
    silence_prompt_s: float = Field(
        default=8.0, gt=0, le=120, description="Caller silence after the agent spoke before 'Вы меня слышите?'."
    )
    silence_prompts: int = Field(default=1, ge=0, le=5, description="Prompts before giving up on a silent caller.")
    silence_prompt_text: str = "Вы меня слышите?"
    silence_goodbye_text: str = "К сожалению, вас не слышно. Перезвоните нам, пожалуйста. До свидания!"
    # -- speech out -------------------------------------------------------------------------------
    tts_sample_rate: int = Field(default=8000, description="Rate asked of the synthesizer (the wire rate is best).")
    # -- records ----------------------------------------------------------------------------------
    record_calls: bool = Field(default=True, description="Save a stereo WAV (caller left, agent right) per call.")
    save_reports: bool = Field(default=True, description="Save the call report JSON beside the lead.")
    max_call_s: float = Field(default=1800.0, gt=10, description="Hard cap on a call's length.")

    @property
    def backchannels(self) -> frozenset[str]:
        return _word_set(self.backchannel_words)

    @property
    def short_answers(self) -> frozenset[str]:
        return _word_set(self.short_answer_words)

    @field_validator("answer_endpoints_ms")
    @classmethod
    def _endpoints(cls, value: dict[str, int]) -> dict[str, int]:
        from salesagent.dialog.states import State

        unknown = sorted(set(value) - set(State.__members__))
        if unknown:
            raise ValueError(f"answer_endpoints_ms: unknown dialog state(s) {', '.join(unknown)}")
        bad = {k: v for k, v in value.items() if not 64 <= v <= 5000}
        if bad:
            raise ValueError(f"answer_endpoints_ms: each endpoint must be 64..5000 ms, got {bad}")
        return value

    @field_validator("tts_sample_rate")
    @classmethod
    def _rate(cls, value: int) -> int:
        if value not in (8000, 16000, 22050):
            raise ValueError(f"tts_sample_rate must be 8000, 16000 or 22050, got {value}")
        return value


def _word_set(comma_separated: str) -> frozenset[str]:
    """"угу, Ага,," -> {"угу", "ага"}: the settings' word lists as the turn-taking compares them."""
    return frozenset(w.strip().lower() for w in comma_separated.split(",") if w.strip())
