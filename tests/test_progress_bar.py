"""A run without a terminal drives a bar that shows nothing, as tqdm(disable=True) did."""

from __future__ import annotations

from typing import Any

import pytest
from tqdm import tqdm

from cleanup.cli.progress import _bar, _NoBar, _Progress


def _drive(bar: Any) -> None:
    """Make every call a run makes on its bar: read, decide (with its clock), write."""
    with bar:
        progress = _Progress(bar)
        progress.read()
        progress.phase("deciding", 3)
        progress.phase("writing", 3)
        progress.written(2)
        progress.stop()


def test_no_bar_takes_what_a_disabled_tqdm_takes(capsys: pytest.CaptureFixture[str]) -> None:
    _drive(tqdm(disable=True))
    _drive(_NoBar())
    assert capsys.readouterr() == ("", "")
    for name in ("set_description_str", "reset", "update", "refresh"):
        assert hasattr(tqdm, name), name


def test_a_bar_shows_only_when_asked() -> None:
    assert isinstance(_bar(False), _NoBar)
    with _bar(True) as bar:
        assert isinstance(bar, tqdm) and not bar.disable
