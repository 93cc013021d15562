"""Tests that a run loads only what its input needs, and that what the main process sends
its workers pickles compactly (issue #18: the main process's share of a run's CPU).

The module checks run in a fresh interpreter: this one has imported everything already.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cleanup.io.readers import RawLine, read_inputs

ROOT = Path(__file__).resolve().parent.parent
_RUN = """
import json, sys
from cleanup.runner import RunOptions, execute
inputs, output, late = sys.argv[1], sys.argv[2], sys.argv[3:]
execute(RunOptions(inputs=[inputs], output=output))
print(json.dumps({name: name in sys.modules for name in late}))
"""


def _loaded(tmp_path: Path, lines: list[bytes], modules: list[str]) -> dict[str, bool]:
    """Run the default pipeline over JSONL lines in a fresh interpreter; which modules it loaded."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(line + b"\n" for line in lines))
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-c", textwrap.dedent(_RUN), str(src), str(out), *modules]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _line(text: str, ident: str = "a") -> bytes:
    return json.dumps({"id": ident, "text": text}).encode("utf-8")


LAZY = ["lxml", "cleanup.extract.page", "charset_normalizer"]


def test_plain_utf8_run_loads_neither_lxml_nor_charset_detection(tmp_path: Path) -> None:
    lines = [_line(f"Paragraph {n} of plain text.\nA second one.", str(n)) for n in range(5)]
    assert _loaded(tmp_path, lines, LAZY) == dict.fromkeys(LAZY, False)


def test_html_record_loads_the_page_extraction(tmp_path: Path) -> None:
    page = "<html><body><p>" + "Some words of the article. " * 20 + "</p></body></html>"
    loaded = _loaded(tmp_path, [_line(page)], LAZY)
    assert loaded == {"lxml": True, "cleanup.extract.page": True, "charset_normalizer": False}
    assert "<p>" not in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def test_line_not_utf8_loads_charset_detection(tmp_path: Path) -> None:
    latin1 = json.dumps({"id": "a", "text": "Caf\u00e9 cr\u00e8me"}, ensure_ascii=False)
    loaded = _loaded(tmp_path, [latin1.encode("latin-1")], ["charset_normalizer"])
    assert loaded == {"charset_normalizer": True}
    assert "Caf\u00e9" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def test_extract_package_names_resolve_on_first_use() -> None:
    import cleanup.extract as extract
    from cleanup.extract.page import Page, UnparseableHTML, extract_page

    assert (extract.Page, extract.UnparseableHTML, extract.extract_page) == (
        Page,
        UnparseableHTML,
        extract_page,
    )
    with pytest.raises(AttributeError):
        _ = extract.no_such_name  # type: ignore[attr-defined]


def test_raw_lines_pickle_as_tuples_sharing_their_source(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(_line(f"text {n}", str(n)) + b"\n" for n in range(3)))
    lines = list(read_inputs([str(src)], lazy=True))
    assert all(isinstance(line, RawLine) for line in lines)
    back = pickle.loads(pickle.dumps(lines, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == lines
    assert back[0].source is back[2].source  # one Source per batch, not one per line
