"""fix-encoding's cheaper ftfy round and document gate give exactly what ftfy and the
per-paragraph search give (issue #18).

`ftfy_round.fix_and_explain` mirrors ftfy.fix_and_explain but skips the detector scans and
fixers that provably find nothing; `_hits` clears whole documents before asking paragraphs.
Both are compared with what they replace on generated mojibake, entities, control characters
and non-ASCII text, on ftfy's own test cases and on a generated news corpus.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-* codecs
import pytest
from ftfy.chardata import CHARMAP_ENCODINGS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from script_loader import load_script

from cleanup.document import Document
from cleanup.steps import encoding, ftfy_round
from cleanup.steps.encoding import NEEDS_FTFY, ftfy_config

CASES_DIR = Path(__file__).parent / "data" / "ftfy"
CASES = [
    case["original"]
    for path in sorted(CASES_DIR.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))
]
CONFIGS = [
    ftfy_config(),
    ftfy_config(unescape_html=False),
    ftfy_config(fix_mojibake=False),
    ftfy_config(restore_byte_a0=False),
    ftfy_config(fix_c1_controls=False),
]


def _mojibake(text: str, codec: str) -> str:
    """Return `text` as UTF-8 bytes wrongly decoded with a single-byte codec."""
    return text.encode("utf-8").decode(codec, errors="replace")


PIECES = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(max_codepoint=0x7F), max_size=20),
    st.builds(_mojibake, st.text(max_size=20), st.sampled_from(CHARMAP_ENCODINGS)),
    st.builds(
        _mojibake,
        st.builds(_mojibake, st.text(max_size=10), st.sampled_from(["latin-1", "windows-1252"])),
        st.sampled_from(["latin-1", "sloppy-windows-1252"]),
    ),
    st.sampled_from(
        [
            "&amp;",
            "&eacute;",
            "&#x2019;",
            "&#8217;",
            "&EACUTE;",
            "&#128;",
            "&#x80;",
            "&#xd800;",
            "<",
            "\x1b[1m",
            "\x1b",
            "\ufeff",
            "\r",
            "\r\n",
            "\x85",
            "\u2028",
            "\x93",
            "\x00",
            "\ud83d",
            "\ude00",
            "\u00a0",
            " ",
            "Ã",
            "â€",
            "’",
            "“",
        ]
    ),
)
TEXT = st.lists(PIECES, max_size=6).map("".join)


def ftfys_round(text: str, config: ftfy.TextFixerConfig) -> tuple[str, list[tuple[str, str]]]:
    fixed, steps = ftfy.fix_and_explain(text, config)
    return fixed, [tuple(s) for s in steps or ()]


def mirror_round(text: str, config: ftfy.TextFixerConfig) -> tuple[str, list[tuple[str, str]]]:
    fixed, steps = ftfy_round.fix_and_explain(text, config, NEEDS_FTFY)
    return fixed, [tuple(s) for s in steps]


def test_the_installed_ftfy_is_mirrored() -> None:
    """The tests below compare the mirror, not ftfy with itself."""
    assert ftfy_round.MIRRORED and NEEDS_FTFY is not None


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.sampled_from(CONFIGS))
@example("voil\u00c3  le travail", CONFIGS[0])
@example("&#x80;\u00c3\u00a9", CONFIGS[0])
@example("\u00c3\u00a9\r\n\x1b[1m", CONFIGS[0])
def test_round_is_ftfys(text: str, config: ftfy.TextFixerConfig) -> None:
    """Text and explanation: every step ftfy names, in ftfy's order."""
    assert mirror_round(text, config) == ftfys_round(text, config)


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_round_is_ftfys_on_ftfys_cases(config: ftfy.TextFixerConfig) -> None:
    for text in CASES:
        for segment in text.splitlines(keepends=True) or [text]:
            assert mirror_round(segment, config) == ftfys_round(segment, config), segment


def test_cosmetic_configs_run_ftfy_itself() -> None:
    """The mirror knows only this step's fixers: any other config is ftfy's own round."""
    config = ftfy_config()._replace(uncurl_quotes=True, fix_latin_ligatures=True)
    text = "\u201cq\u201d \ufb01 \u00c3\u00a9"
    assert mirror_round(text, config) == ftfys_round(text, config)
    assert mirror_round(text, config)[0] == '"q" fi é'


def test_other_ftfy_releases_run_ftfy_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = ftfy.fix_and_explain

    def spy(text: str, config: ftfy.TextFixerConfig) -> object:
        calls.append(text)
        return original(text, config)

    monkeypatch.setattr(ftfy, "fix_and_explain", spy)
    ftfy_round.fix_and_explain("Caf\u00c3\u00a9", ftfy_config(), NEEDS_FTFY)
    assert calls == []
    monkeypatch.setattr(ftfy_round, "MIRRORED", False)
    assert ftfy_round.fix_and_explain("Caf\u00c3\u00a9", ftfy_config(), NEEDS_FTFY)[0] == "Café"
    assert calls == ["Caf\u00c3\u00a9"]


def _without_triggers() -> str:
    """Every code point but the trailing fixers' triggers, each after an ASCII letter and ESC[."""
    triggers = ftfy_round.SINGLE_TRIGGERS
    return "".join(f"a{chr(c)}[1m" for c in range(0x110000) if c not in triggers)


@pytest.mark.parametrize("name", ftfy_round.TRAILING)
def test_trailing_fixers_need_a_trigger(name: str) -> None:
    """What lets the mirror skip them: none changes a text without one of its triggers."""
    text = _without_triggers()
    assert not ftfy_round.TRIGGER.search(text)
    assert ftfy.FIXERS[name](text) == text
    assert ftfy.FIXERS[name]("a\r\n\x85\x1b[1m\x00\x93\ud800b") != "a\r\n\x85\x1b[1m\x00\x93\ud800b"


@settings(max_examples=1500, deadline=None)
@given(st.lists(TEXT, max_size=8))
@example(["AT&T", "caf\u00e9"])
@example(["ends with &", "amp; starts"])
@example(["x\x00y", "\u00c3\u00a9"])
def test_document_gate_finds_what_each_paragraph_search_finds(paragraphs: list[str]) -> None:
    assert NEEDS_FTFY is not None
    expected = [i for i, p in enumerate(paragraphs) if NEEDS_FTFY.search(p)]
    assert encoding._hits(paragraphs, NEEDS_FTFY) == expected


def test_ascii_inert_bytes_are_the_non_anchors() -> None:
    assert NEEDS_FTFY is not None
    first = NEEDS_FTFY.pattern[: NEEDS_FTFY.pattern.index("(?:")]
    anchors = {c for c in range(0x80) if re.fullmatch(first, chr(c))}
    assert set(encoding._ASCII_INERT) == set(range(0x80)) - anchors


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    out = tmp_path_factory.mktemp("corpus")
    args = ["--docs", "400", "--seed", "5", "--out", str(out), "-q"]
    assert load_script("gen_corpus").main(args) == 0
    with open(out / "corpus.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return [Document.from_text(str(i), t).paragraphs for i, t in enumerate(texts)]


def test_corpus_gate_and_repairs_are_ftfys(corpus: list[list[str]]) -> None:
    assert NEEDS_FTFY is not None
    config = ftfy_config()
    repaired = 0
    for paragraphs in corpus:
        expected = [i for i, p in enumerate(paragraphs) if NEEDS_FTFY.search(p)]
        assert encoding._hits(paragraphs, NEEDS_FTFY) == expected
        for i in expected:
            assert mirror_round(paragraphs[i], config) == ftfys_round(paragraphs[i], config)
            repaired += mirror_round(paragraphs[i], config)[0] != paragraphs[i]
    assert repaired > 20  # the corpus does hold mojibake to repair
