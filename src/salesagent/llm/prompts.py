"""Russian prompts for extraction and rephrasing, and the JSON schema the LLM must fill.

Layout for prefix caching: the system message and the few-shot pairs depend only on the clinic
profile and the prompt variant, so they are byte-identical on every turn of every call and vLLM's
automatic prefix caching (llama.cpp's prompt cache likewise) serves them from cache; what changes
(date, state, slots, history, the utterance) comes after them.

The schema is generated from a Pydantic model built from the profile: study areas, modalities,
contraindications, discounts and FAQ ids are enums, so a constrained decoder cannot even write a
value the clinic does not have (and :mod:`salesagent.llm.extractor` validates again for
servers that do not constrain).

Token budget: history and slots are cut to ``context_token_budget`` approximate tokens, counted as
characters / 3 (Qwen's tokenizer averages 2.5-3.5 characters per token on Russian), oldest turns
dropped first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract.base import Intent
from salesagent.llm.variants import PromptVariant

CHARS_PER_TOKEN = 3
WEEKDAYS_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")

INTENT_HELP: dict[Intent, str] = {
    Intent.YES: "согласие: да, конечно, хорошо, давайте",
    Intent.NO: "отрицание: нет, не было, не нужно",
    Intent.DECLINE: "отказ от записи: не буду записываться, дорого, не хочу",
    Intent.CALLBACK: "просит перезвонить позже, сейчас неудобно",
    Intent.HUMAN: "хочет говорить с администратором или живым человеком",
    Intent.DONT_KNOW: "не знает, не помнит",
    Intent.CORRECTION: "исправляет сказанное раньше: нет, не в пятницу, а в субботу",
    Intent.REPEAT: "просит повторить, не расслышал",
}


def approx_tokens(text: str) -> int:
    """Approximate token count: characters / 3, rounded up (documented in docs/llm.md)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _literal(values: list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


# Profiles hold dicts and are not hashable: cache by identity, keeping the profile alive.
_MODELS: dict[int, tuple[ClinicProfile, type[BaseModel], dict[str, Any]]] = {}


def extraction_model(profile: ClinicProfile) -> type[BaseModel]:
    """The structured answer the LLM fills, with the profile's ids as enums."""
    cached = _MODELS.get(id(profile))
    if cached is None or cached[0] is not profile:
        model = _build_extraction_model(profile)
        schema = _lean(model.model_json_schema())
        schema["additionalProperties"] = False
        cached = _MODELS[id(profile)] = (profile, model, schema)
    return cached[1]


def extraction_schema(profile: ClinicProfile) -> dict[str, Any]:
    """The JSON schema of :func:`extraction_model` (shared dict: do not mutate)."""
    extraction_model(profile)
    return _MODELS[id(profile)][2]


def _lean(node: Any) -> Any:
    """The schema without titles and defaults: fewer grammar rules, fewer prompt tokens."""
    if isinstance(node, dict):
        return {k: _lean(v) for k, v in node.items() if k not in ("title", "default")}
    if isinstance(node, list):
        return [_lean(v) for v in node]
    return node


def _build_extraction_model(profile: ClinicProfile) -> type[BaseModel]:
    # No string lengths, patterns or number ranges here: llama.cpp turns maxLength into deeply
    # nested grammar rules and mistranslates ``\d`` patterns (its server died on both, measured).
    # Ranges and formats are checked when the answer is turned into an Extraction.
    fields: dict[str, Any] = {
        "client_name": (str | None, None),
        "phone": (str | None, None),
        "age": (int | None, None),
        "weight": (int | None, None),
        "symptoms": (str | None, None),
        "symptoms_duration": (str | None, None),
        "pain_character": (str | None, None),
        "modality": (_literal(list(profile.modalities)) | None, None),
        "body_part": (_literal(list(profile.body_parts)) | None, None),
        "contraindications": (list[_literal([c.id for c in profile.contraindications])], Field(default_factory=list)),
        "discounts": (list[_literal([d.id for d in profile.discounts])], Field(default_factory=list)),
        "day": (str | None, None),
        "time": (str | None, None),
        "part_of_day": (Literal["morning", "afternoon", "evening"] | None, None),
        "intents": (list[_literal([i.value for i in Intent])], Field(default_factory=list)),
        "faq": (list[_literal([f.id for f in profile.faq])], Field(default_factory=list)),
    }
    return create_model(  # type: ignore[call-overload]
        "SlotAnswer", __config__=ConfigDict(extra="ignore"), **fields
    )


def _vocabulary(profile: ClinicProfile) -> str:
    lines = ["Исследования (modality): " + "; ".join(f"{k} = {m.name}" for k, m in profile.modalities.items())]
    lines.append(
        "Области (body_part): "
        + "; ".join(f"{k} = {p.name}" for k, p in profile.body_parts.items())
    )
    lines.append("Противопоказания (contraindications): " + "; ".join(
        f"{c.id} = {c.name}" for c in profile.contraindications))
    lines.append("Скидки (discounts): " + "; ".join(f"{d.id} = {d.aliases[0]}" for d in profile.discounts))
    lines.append("Вопросы (faq): " + "; ".join(f"{f.id} = {f.triggers[0]}" for f in profile.faq))
    lines.append("Намерения (intents): " + "; ".join(f"{i.value} = {h}" for i, h in INTENT_HELP.items()))
    return "\n".join(lines)


EXTRACT_RULES = """Ты модуль понимания речи в колл-центре диагностического центра «{clinic}».
Тебе дают реплику клиента (распознанная речь, без знаков препинания) и вопрос агента.
Верни JSON только с теми полями, которые клиент РЕАЛЬНО назвал в этой реплике. Ничего не выдумывай.
- client_name: имя клиента в именительном падеже, с большой буквы.
- phone: номер телефона цифрами, если продиктован.
- age: возраст в годах; weight: вес в килограммах.
- symptoms: жалоба словами клиента; symptoms_duration: как давно, например "2 недели";
  pain_character: характер боли (острая, ноющая, тянущая, ...).
- modality и body_part: только ключи из списков ниже.
- contraindications: только если клиент говорит, что это у него ЕСТЬ.
- day: дата ГГГГ-ММ-ДД (считай от сегодняшней даты); time: ЧЧ:ММ; part_of_day: morning/afternoon/evening.
- intents: намерения из списка; faq: вопросы клиента из списка.

Справочник клиники:
{vocabulary}"""

# Few-shot pairs: static (no dates), short, covering the fields the rules find hardest.
EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("ASK_CLIENT_NAME", "меня зовут татьяна петровна", {"client_name": "Татьяна"}),
    ("ASK_SYMPTOMS", "да вот колено болит уже недели три ноет", {
        "symptoms": "болит колено", "symptoms_duration": "3 недели", "pain_character": "ноющая",
        "body_part": "knee"}),
    ("CHECK_CONTRAINDICATIONS", "у меня стоит кардиостимулятор", {"contraindications": ["pacemaker"]}),
    ("ASK_STUDY_DECISION", "а сколько это стоит и где вы находитесь", {"faq": ["price", "address"]}),
    ("ASK_APPOINTMENT_DATE", "не знаю перезвоните мне позже", {"intents": ["dont_know", "callback"]}),
)


def _example_pairs(profile: ClinicProfile) -> list[dict[str, str]]:
    model = extraction_model(profile)
    messages: list[dict[str, str]] = []
    for state, text, answer in EXAMPLES:
        try:
            model.model_validate(answer)
        except ValueError:
            continue  # a profile without these ids: the example would teach a value it cannot use
        messages.append({"role": "user", "content": f"Вопрос агента: {state}\nКлиент: {text}"})
        messages.append({"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)})
    return messages


def extraction_prefix(profile: ClinicProfile, variant: PromptVariant) -> list[dict[str, str]]:
    """The static head of every extraction request (cached by the server across turns and calls)."""
    system = EXTRACT_RULES.format(clinic=profile.clinic.name, vocabulary=_vocabulary(profile))
    if variant.extract_instructions:
        system += "\n" + variant.extract_instructions
    return [{"role": "system", "content": system}, *_example_pairs(profile)]


def trim_history(history: tuple[tuple[str, str], ...] | list[tuple[str, str]], max_messages: int,
                 token_budget: int) -> list[tuple[str, str]]:
    """The most recent ``max_messages`` turns whose text fits ``token_budget`` (oldest dropped first)."""
    kept: list[tuple[str, str]] = []
    used = 0
    for role, text in reversed(list(history)[-max_messages:] if max_messages else []):
        cost = approx_tokens(text) + 2
        if used + cost > token_budget:
            break
        kept.append((role, text))
        used += cost
    kept.reverse()
    return kept


def slots_summary(slots: dict[str, Any] | None) -> str:
    if not slots:
        return "пока ничего"
    return json.dumps(slots, ensure_ascii=False, default=str)


def render_history(history: list[tuple[str, str]]) -> str:
    names = {"agent": "Агент", "assistant": "Агент", "bot": "Агент", "user": "Клиент", "caller": "Клиент"}
    return "\n".join(f"{names.get(role, role)}: {text}" for role, text in history)


def extraction_request(
    *,
    profile: ClinicProfile,
    variant: PromptVariant,
    text: str,
    state: str,
    expected: tuple[str, ...],
    now: datetime,
    history: list[tuple[str, str]],
    slots: dict[str, Any] | None,
) -> list[dict[str, str]]:
    """Static prefix + the dynamic turn: date, state, what is known, recent turns, the utterance."""
    parts = [f"Сегодня {WEEKDAYS_RU[now.weekday()]}, {now.date().isoformat()}, время {now:%H:%M}."]
    if history:
        parts.append("Недавний разговор:\n" + render_history(history))
    parts.append("Уже известно: " + slots_summary(slots))
    asked = f" (ждём: {', '.join(expected)})" if expected else ""
    parts.append(f"Вопрос агента: {state}{asked}\nКлиент: {text}")
    return [*extraction_prefix(profile, variant), {"role": "user", "content": "\n".join(parts)}]


REPHRASE_RULES = """Ты администратор диагностического центра «{clinic}» по имени {agent}, говоришь по телефону.
Перефразируй реплику агента естественно и вежливо, одним-двумя короткими предложениями, по-русски.
Строго: не добавляй никаких цифр, цен, дат, времени, адресов и исследований, которых нет в исходной
реплике. Сохрани смысл и вопрос. Ответь только новой репликой, без кавычек и пояснений."""

ANSWER_RULES = """Ты администратор диагностического центра «{clinic}» по имени {agent}, говоришь по телефону.
Ответь на вопрос клиента одним-двумя короткими предложениями, по-русски, ТОЛЬКО по справке ниже.
Если в справке ответа нет, скажи, что уточнит администратор. Не называй цен, адресов, времени и
исследований, которых нет в справке.

Справка:
{facts}"""


def clinic_facts(profile: ClinicProfile) -> str:
    """The profile as short Russian facts: the only ground the answerer may stand on."""
    info = profile.clinic
    lines = [f"Адрес: {info.address}. {info.directions}", f"Парковка: {info.parking}",
             f"Часы работы: {info.working_hours_text}", f"Оплата: {info.payment}",
             f"Результаты: {info.results}", f"Телефон: {info.phone}"]
    lines += [f"{s.name}: {s.price} рублей, около {s.duration_min} минут. {s.preparation}" for s in profile.studies]
    lines.append(f"Видеозаключение: {profile.video_conclusion.price} рублей.")
    lines.append(f"Запись снимков на диск: {profile.media.price} рублей.")
    lines.append(f"Ограничение веса для МРТ: {profile.mri_table_weight_limit_kg} килограммов.")
    lines += [f"{d.name}: {d.percent}% {d.conditions}".strip() for d in profile.discounts]
    lines.append("Документы: " + ", ".join(profile.documents) + ".")
    return "\n".join(lines)


def rephrase_request(*, profile: ClinicProfile, variant: PromptVariant, state: str, template_reply: str,
                     history: list[tuple[str, str]], slots: dict[str, Any] | None) -> list[dict[str, str]]:
    system = REPHRASE_RULES.format(clinic=profile.clinic.name, agent=profile.clinic.agent_name)
    if variant.reply_style:
        system += "\n" + variant.reply_style
    parts = []
    if history:
        parts.append("Недавний разговор:\n" + render_history(history))
    parts.append("Известно о клиенте: " + slots_summary(slots))
    parts.append(f"Этап: {state}\nИсходная реплика агента: {template_reply}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}]


def answer_request(*, profile: ClinicProfile, variant: PromptVariant, question: str,
                   history: list[tuple[str, str]], slots: dict[str, Any] | None) -> list[dict[str, str]]:
    system = ANSWER_RULES.format(clinic=profile.clinic.name, agent=profile.clinic.agent_name,
                                 facts=clinic_facts(profile))
    if variant.reply_style:
        system += "\n" + variant.reply_style
    parts = []
    if history:
        parts.append("Недавний разговор:\n" + render_history(history))
    parts.append("Известно о клиенте: " + slots_summary(slots))
    parts.append(f"Вопрос клиента: {question}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}]

