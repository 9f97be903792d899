"""The encoder window chosen for a clip never cuts speech and is the smallest that fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from salesagent.speech.asr.whisper import FULL_WINDOW_S, WINDOW_MARGIN_S, encoder_window_s
from salesagent.speech.config import AsrSettings

windows = st.lists(st.floats(1.0, 40.0), max_size=6).map(tuple)


@given(st.floats(0.0, 29.0), windows)
def test_the_window_holds_the_clip_and_is_the_smallest_that_does(clip_s, configured) -> None:
    chosen = encoder_window_s(clip_s, configured)
    assert chosen == FULL_WINDOW_S or chosen >= clip_s + WINDOW_MARGIN_S
    smaller = [w for w in configured if clip_s + WINDOW_MARGIN_S <= w < chosen]
    assert smaller == []


def test_defaults_give_short_answers_a_short_window_and_long_ones_the_full_one() -> None:
    defaults = AsrSettings().encoder_windows_s
    assert encoder_window_s(2.5, defaults) == 10.0
    assert encoder_window_s(9.5, defaults) == 15.0
    assert encoder_window_s(25.0, defaults) == FULL_WINDOW_S
    assert encoder_window_s(2.5, ()) == FULL_WINDOW_S  # switched off: the old behaviour
