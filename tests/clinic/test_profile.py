"""The clinic profile is data validated at start; a bad file names the field and the reason."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from salesagent.clinic.profile import ProfileError, load_profile
from salesagent.clinic.schedule import free_slots, is_bookable

DEFAULT = Path(__file__).parents[2] / "src/salesagent/clinic/data/default_profile.yaml"


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEFAULT.read_text("utf-8"))
    mutate(data)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def test_default_profile_is_complete(profile) -> None:
    modalities = {s.modality for s in profile.studies}
    assert {"mri", "ct", "us"} <= modalities
    assert all(s.price > 0 and s.duration_min > 0 for s in profile.studies)
    ids = {c.id for c in profile.contraindications}
    assert {"pacemaker", "metal_implants", "insulin_pump", "pregnancy_first_trimester", "claustrophobia"} <= ids
    assert profile.mri_table_weight_limit_kg > 0 and profile.video_conclusion.price > 0 and profile.media.price > 0
    assert profile.discounts and profile.documents and profile.clinic.address


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["studies"][0].update(price=-5), "studies.0.price"),
        (lambda d: d["studies"][0].update(modality="pet"), "unknown modality"),
        (lambda d: d["clinic"].update(timezone="Mars/Olympus"), "clinic.timezone"),
        (lambda d: d["schedule"]["hours"].update(mon=["20:00", "08:00"]), "schedule.hours"),
        (lambda d: d.pop("documents"), "documents"),
        (lambda d: d["clinic"].update(phone="12345"), "clinic.phone"),
    ],
)
def test_bad_profile_names_field_and_reason(tmp_path: Path, mutate, field: str) -> None:
    with pytest.raises(ProfileError) as err:
        load_profile(_write(tmp_path, mutate))
    assert field in str(err.value)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clinic: [unclosed", "utf-8")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "absent.yaml")


def test_cli_refuses_to_start_with_a_bad_profile(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["studies"][0].update(price="дорого"))
    env = {"SALESAGENT_PROFILE_PATH": str(path), "SALESAGENT_DATA_DIR": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "salesagent.cli.main", "chat"], input="", capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "studies.0.price" in lines[0], proc.stderr


def test_schedule_offers_only_free_future_slots(profile) -> None:
    now = datetime.fromisoformat("2026-11-25T11:00:00+03:00")
    friday = date(2026, 11, 27)
    slots = free_slots(profile, friday, now)
    taken = set(profile.schedule.taken_weekly["fri"])
    assert slots and not any(s.time() in taken for s in slots)
    assert all(profile.schedule.hours["fri"][0] <= s.time() < profile.schedule.hours["fri"][1] for s in slots)
    # today: nothing before now + the minimum lead time
    today = free_slots(profile, now.date(), now)
    assert today and min(today) >= now.replace(hour=12, minute=0)
    first = slots[0]
    assert not is_bookable(profile, first, now, booked=[first])
    assert not is_bookable(profile, first.replace(minute=15), now)  # not on the grid
