"""Golden before/after files: each case file under tests/golden/ is one test, named after it."""

from __future__ import annotations

import pytest
from golden_cases import Case, cases


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.path.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in cases()])
def test_golden(case: Case) -> None:
    expected = case.input if case.expected is None else case.expected
    assert case.run() == expected
