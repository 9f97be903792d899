"""check_grounded: facts in an LLM reply must come from the profile, the slots or the template."""

from __future__ import annotations

from datetime import datetime

from salesagent.dialog.slots import DialogSlots
from salesagent.llm.grounding import check_grounded


def _study(profile, modality, body_part):
    return profile.find_study(modality, body_part)


def test_profile_price_is_grounded(profile):
    knee = _study(profile, "mri", "knee")
    assert check_grounded(f"{knee.name} стоит {knee.price} рублей.", profile, DialogSlots()) == []


def test_hallucinated_price_is_caught(profile):
    prices = {s.price for s in profile.studies}
    fake = next(p for p in range(1234, 99999, 111) if p not in prices)
    violations = check_grounded(f"Исследование стоит {fake} рублей.", profile, DialogSlots())
    assert any(str(fake) in v for v in violations)


def test_hallucinated_price_in_words_is_caught(profile):
    assert 1111 not in {s.price for s in profile.studies}
    violations = check_grounded("Это будет стоить тысячу сто одиннадцать рублей.", profile, DialogSlots())
    assert any("1111" in v for v in violations)


def test_price_of_another_study_is_caught(profile):
    knee = _study(profile, "mri", "knee")
    other = next(s for s in profile.studies if s.price != knee.price and s.modality == "mri")
    violations = check_grounded(f"{knee.name} стоит {other.price} рублей.", profile, DialogSlots())
    assert any("is not the price of" in v for v in violations)


def test_discounted_price_is_grounded(profile):
    knee = _study(profile, "mri", "knee")
    percent = profile.discounts[0].percent
    discounted = round(knee.price * (100 - percent) / 100)
    assert check_grounded(f"Со скидкой {knee.name} обойдётся в {discounted} рублей.", profile, DialogSlots()) == []


def test_study_the_clinic_does_not_offer(profile):
    modality, part = next((m, b) for m in profile.modalities for b in profile.body_parts
                          if profile.find_study(m, b) is None)
    text = f"Можем сделать {profile.modalities[modality].name} {profile.body_parts[part].aliases[0]}."
    assert any("study not offered" in v for v in check_grounded(text, profile, DialogSlots()))
    assert any("study not offered" in v for v in check_grounded("Сделаем вам рентген.", profile, DialogSlots()))


def test_times_need_the_slots(profile):
    text = "Записываю вас на 14:30."
    assert check_grounded(text, profile, DialogSlots()) != []
    slots = DialogSlots(appointment_datetime=datetime.fromisoformat("2026-11-27T14:30:00+03:00"))
    assert check_grounded(text, profile, slots) == []


def test_phones(profile):
    clinic = profile.clinic.phone  # +7XXXXXXXXXX
    spoken = f"8 {clinic[2:5]} {clinic[5:8]}-{clinic[8:10]}-{clinic[10:]}"
    assert check_grounded(f"Наш телефон {spoken}.", profile, DialogSlots()) == []
    assert check_grounded("Наш телефон 8 800 555 35 35.", profile, DialogSlots()) != []


def test_address_and_hours_from_profile_are_grounded(profile):
    info = profile.clinic
    assert check_grounded(f"Мы находимся по адресу: {info.address}. {info.working_hours_text}", profile) == []


def test_template_numbers_are_allowed_as_reference(profile):
    template = "Свободно 10:00, 10:30 и 12:00. Какое время записать?"
    assert check_grounded("Есть окна в 10:00, 10:30 и 12:00. Что вам удобнее?", profile, DialogSlots(),
                          reference=template) == []
    assert check_grounded("Есть окна в 10:00 и 16:00. Что вам удобнее?", profile, DialogSlots(),
                          reference=template) != []


def test_plain_text_without_facts(profile):
    assert check_grounded("Ольга, расскажите, пожалуйста, что вас беспокоит?", profile, DialogSlots()) == []
