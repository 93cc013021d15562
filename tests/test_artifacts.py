"""Tests for the strip-artifacts step: fixtures, blocks, positions, repeats, options, properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanup.document import Document
from cleanup.pipeline import step_spec
from cleanup.rules import RuleError, builtin_rules
from cleanup.steps.artifacts import REPEATED, SPEC, STEP, strip_artifacts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DESCRIPTIONS = {r.id: r.description for r in builtin_rules()}


def run(paragraphs: list[str], **options) -> Document:
    """Run the step on one document made of `paragraphs` (one per line) and return it."""
    doc = Document(id="d", paragraphs=list(paragraphs), sep="\n")
    [out] = list(strip_artifacts([doc], **options))
    return out


def fixture(name: str) -> Document:
    return Document.from_text(name, (FIXTURES / name).read_text(encoding="utf-8"))


def undo(doc: Document) -> list[str]:
    """Rebuild the input paragraphs from the output and its edits (last edit undone first)."""
    paragraphs = list(doc.paragraphs)
    for edit in reversed(doc.edits):
        if edit.kind in ("remove", "move"):
            paragraphs.insert(edit.index, edit.before)
    return paragraphs


BODY_1 = "Sessions met with Kislyak twice, in July and in September, according to officials."
BODY_2 = "The Justice Department confirmed the meetings on Thursday in a brief statement."
BODY_3 = "Democrats called for his resignation, saying he had misled the Senate."
BODY_LONG = (
    "Attorney General Jeff Sessions met twice last year with the top Russian diplomat in "
    "Washington whose interactions with the former national security adviser led to his "
    "firing, according to the Justice Department."
)


# --- the seed fixtures ---------------------------------------------------------------------


def test_cnn_fixture_loses_highlights_update_note_and_credit_only() -> None:
    before = fixture("cnn_sessions.txt")
    original = list(before.paragraphs)
    [doc] = list(strip_artifacts([before]))
    removed = {e.before: e for e in doc.edits}
    assert [removed[p].rule for p in original[:3]] == ["en-story-highlights"] * 3
    assert all(removed[p].kind == "move" for p in original[:3])
    assert doc.meta["highlights"] == original[1:3]
    assert removed[original[-2]].rule == "en-story-updated"
    assert original[-2].startswith("This story is being updated")
    assert removed[original[-1]].rule == "en-contributed-credit"
    assert len(doc.edits) == 5
    assert doc.paragraphs == original[3:-2]  # every body paragraph stays, in order


def test_dailymail_fixture_loses_video_prompt_source_and_repeated_captions() -> None:
    before = fixture("dailymail_sessions.txt")
    original = list(before.paragraphs)
    [doc] = list(strip_artifacts([before]))
    by_rule: dict[str, list[str]] = {}
    for edit in doc.edits:
        by_rule.setdefault(edit.rule, []).append(edit.before)
    assert [p.strip() for p in by_rule.pop("en-video-prompt")] == ["Scroll down for video"]
    assert by_rule.pop("any-dangling-source") == ["Source"]
    repeats = by_rule.pop(REPEATED)
    assert not by_rule
    # Each removed repeat is the second of two neighbours that differ at most by quotes/spaces.
    for edit in (e for e in doc.edits if e.rule == REPEATED):
        kept = original[edit.detail["duplicate_of"]]
        assert edit.detail["duplicate_of"] == edit.index - 1
        assert kept.replace("’", "'").split() == edit.before.replace("’", "'").split()
    assert len(repeats) == 9
    # Some twins differ only by ' against ’ (alt text against caption): fold sees through it.
    assert any(original[e.index - 1] != e.before for e in doc.edits if e.rule == REPEATED)
    # Nothing else went: the output is the input minus exactly those paragraphs, in order.
    gone = {e.index for e in doc.edits}
    assert doc.paragraphs == [p for i, p in enumerate(original) if i not in gone]
    assert undo(doc) == original


def test_edits_carry_step_rule_description_and_input_position() -> None:
    before = fixture("dailymail_sessions.txt")
    original = list(before.paragraphs)
    [doc] = list(strip_artifacts([before]))
    for edit in doc.edits:
        assert edit.step == STEP
        assert edit.kind == "remove"
        assert original[edit.index] == edit.before
        assert edit.why == DESCRIPTIONS.get(edit.rule, edit.why) and edit.why
    indices = [e.index for e in doc.edits]
    assert indices == sorted(indices, reverse=True)  # each index valid when it was made


# --- blocks ----------------------------------------------------------------------------------


def test_highlights_block_in_blank_line_paragraphs_moves_to_meta() -> None:
    bullets = [
        "Sessions met the Russian ambassador twice last year",
        "He did not mention the meetings at his confirmation hearing",
        "Democrats call for his resignation",
    ]
    doc = run(["Sessions under fire", "Story highlights", *bullets, BODY_1, BODY_2])
    assert doc.meta["highlights"] == bullets
    assert doc.paragraphs == ["Sessions under fire", BODY_1, BODY_2]
    assert {e.kind for e in doc.edits} == {"move"}
    assert all(e.detail == {"meta_key": "highlights"} for e in doc.edits)


def test_block_stops_at_a_punctuated_paragraph_after_unpunctuated_bullets() -> None:
    short_body = "Russian officials dispute this."
    doc = run(["Key points", "Bullet one without a full stop", short_body, BODY_1])
    assert doc.meta["highlights"] == ["Bullet one without a full stop"]
    assert doc.paragraphs == [short_body, BODY_1]


def test_block_stops_at_a_long_line_and_at_a_quote() -> None:
    long_line = " ".join(["word"] * 31)
    doc = run(["Story highlights", "First bullet here", long_line])
    assert doc.paragraphs == [long_line]
    quote = "“I never met with any Russian officials,” he said"
    doc = run(["Story highlights", "First bullet here", quote])
    assert doc.paragraphs == [quote]


def test_block_takes_at_most_block_max_lines() -> None:
    bullets = [f"Bullet number {n} of the list" for n in range(8)]
    doc = run(["Story highlights", *bullets], block_max_lines=3)
    assert doc.meta["highlights"] == bullets[:3]
    assert doc.paragraphs == bullets[3:]


def test_block_max_words_is_an_option() -> None:
    line = "one two three four five six seven"
    assert run(["Story highlights", line], block_max_words=5).paragraphs == [line]
    assert run(["Story highlights", line], block_max_words=7).paragraphs == []


def test_header_and_bullets_inside_one_paragraph() -> None:
    block = "Story highlights\n• First bullet of the list\n• Second bullet of the list"
    doc = run([block, BODY_1])
    assert doc.meta["highlights"] == ["First bullet of the list", "Second bullet of the list"]
    assert doc.paragraphs == [BODY_1]
    prose = "Story highlights\nThe committee met. It voted to publish the full report today."
    assert run([prose, BODY_1]).paragraphs == [prose, BODY_1]


def test_highlights_header_only_near_the_top() -> None:
    body = [BODY_1, BODY_2, BODY_3] * 3
    doc = run([*body, "Story highlights", "A line that looks like a bullet"])
    assert doc.paragraphs == [*body, "Story highlights", "A line that looks like a bullet"]


def test_header_without_bullets_is_removed_without_meta() -> None:
    doc = run(["Story highlights", BODY_LONG, BODY_1])
    assert doc.paragraphs == [BODY_LONG, BODY_1]
    assert "highlights" not in doc.meta
    assert doc.edits[0].kind == "remove"


def test_highlights_extend_existing_meta_list() -> None:
    doc = Document(id="d", paragraphs=["Story highlights", "A bullet line", BODY_1])
    doc.meta["highlights"] = ["earlier"]
    [doc] = list(strip_artifacts([doc]))
    assert doc.meta["highlights"] == ["earlier", "A bullet line"]


# --- positions and cascades -------------------------------------------------------------------


def test_dangling_source_only_as_last_paragraph() -> None:
    assert run([BODY_1, "Source", BODY_2]).paragraphs == [BODY_1, "Source", BODY_2]
    assert run([BODY_1, BODY_2, "Sources"]).paragraphs == [BODY_1, BODY_2]


def test_removal_that_exposes_a_last_paragraph_is_followed_through() -> None:
    doc = run([BODY_1, "Source", "Advertisement"])
    assert doc.paragraphs == [BODY_1]
    assert undo(doc) == [BODY_1, "Source", "Advertisement"]


def test_removal_that_makes_twins_neighbours_collapses_them() -> None:
    caption = "Sessions (shown at his confirmation hearing) failed to disclose the talks"
    doc = run([BODY_1, caption, "Advertisement", caption.upper(), BODY_2])
    assert doc.paragraphs == [BODY_1, caption, BODY_2]


# --- repeated paragraphs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "twin",
    [
        "Jeff Sessions attends Congress on Tuesday night for Donald Trump’s speech",
        "Jeff Sessions attends Congress on Tuesday night for Donald Trump's speech ",
        "JEFF SESSIONS ATTENDS CONGRESS ON TUESDAY NIGHT FOR DONALD TRUMP'S SPEECH",
        "Jeff Sessions attends  Congress\u00a0on Tuesday night for Donald Trump's speech.",
    ],
)
def test_repeated_paragraph_collapses_to_the_first(twin: str) -> None:
    first = "Jeff Sessions attends Congress on Tuesday night for Donald Trump's speech"
    doc = run([BODY_1, first, twin, BODY_2])
    assert doc.paragraphs == [BODY_1, first, BODY_2]
    assert doc.edits[0].rule == REPEATED and doc.edits[0].detail == {"duplicate_of": 1}


def test_three_in_a_row_keep_one_and_distant_repeats_stay() -> None:
    cap = "Donald Trump on Tuesday"
    assert run([cap, cap, cap, BODY_1]).paragraphs == [cap, BODY_1]
    assert run([cap, BODY_1, cap]).paragraphs == [cap, BODY_1, cap]


def test_one_word_twice_stays() -> None:
    assert run(["6", "6", "Yes.", "yes!"]).paragraphs == ["6", "6", "Yes.", "yes!"]


def test_different_neighbours_stay() -> None:
    a = "Sessions (left) and Trump (right) arrived for the address"
    b = "Sessions (left) and Trump (right) arrived for the speech"
    assert run([a, b]).paragraphs == [a, b]


# --- options and rule files -------------------------------------------------------------------


def test_disable_rule_turns_a_builtin_off() -> None:
    paragraphs = [BODY_1, "Click here to read more", BODY_2]
    assert run(paragraphs).paragraphs == [BODY_1, BODY_2]
    assert run(paragraphs, disable_rule=("en-click-here",)).paragraphs == paragraphs


def test_disable_repeated_paragraph_keeps_repeats() -> None:
    assert run([BODY_1, BODY_1], disable_rule=(REPEATED,)).paragraphs == [BODY_1, BODY_1]


def test_unknown_disabled_rule_fails_before_any_document_is_read() -> None:
    def docs():
        raise AssertionError("input read before the options were checked")
        yield  # pragma: no cover

    with pytest.raises(RuleError, match="en-typo"):
        strip_artifacts(docs(), disable_rule=("en-typo",))


def test_bad_block_options_are_errors() -> None:
    with pytest.raises(ValueError, match="block-max-words"):
        strip_artifacts([], block_max_words=0)


def test_user_rules_file_adds_drop_meta_and_positional_rules(tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(
        """
[[rule]]
id = "my-byline"
description = "a byline, kept as metadata"
match = 'filed by [a-z .]{2,60}'
action = "meta"
key = "byline"
where = "first"
within = 2
examples_match = ["Filed by Jane Doe"]
examples_keep = ["Filed by the river, the report was lost."]

[[rule]]
id = "my-footer"
description = "the site's sign-off"
match = "the end"
where = "last"

[[rule]]
id = "my-menu"
description = "the site's menu and its entries"
match = "top"
action = "drop-block"
""",
        encoding="utf-8",
    )
    paragraphs = [
        "Filed by Jane Doe",
        BODY_1,
        "Top",
        "Home",
        "World",
        BODY_2,
        "Filed by Jane Doe",
        "The end",
    ]
    doc = run(paragraphs, rules_file=(str(rules),))
    assert doc.meta["byline"] == ["Filed by Jane Doe"]
    assert doc.paragraphs == [BODY_1, BODY_2, "Filed by Jane Doe"]
    assert {e.rule for e in doc.edits} == {"my-byline", "my-footer", "my-menu"}
    assert next(e for e in doc.edits if e.rule == "my-byline").kind == "move"
    assert next(e for e in doc.edits if e.rule == "my-menu" and e.index == 2).detail == {
        "block_lines": 2
    }
    assert undo(doc) == paragraphs


def test_rules_file_errors_surface_as_value_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "("\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad regex"):
        strip_artifacts([], rules_file=(str(bad),))


def test_dropped_documents_pass_through_untouched() -> None:
    doc = Document(id="d", paragraphs=["Advertisement", BODY_1])
    doc.drop("dedup", "near-duplicate-document", "why")
    [out] = list(strip_artifacts([doc]))
    assert out.paragraphs == ["Advertisement", BODY_1] and not out.edits


def test_long_paragraphs_are_never_artifacts() -> None:
    long_credit = "Reporting by " + ", ".join(["Jane Doe"] * 200) + "; Editing by Bob"
    assert run([BODY_1, long_credit]).paragraphs == [BODY_1, long_credit]


def test_spec_is_registered_with_unique_prefixed_options() -> None:
    assert step_spec("strip-artifacts") is SPEC
    names = [o.name for o in SPEC.options]
    assert names == ["disable-rule", "rules-file", "block-max-words", "block-max-lines"]
    step = SPEC.bind(disable_rule=("en-advertisement",))
    [doc] = list(step([Document(id="d", paragraphs=["Advertisement"])]))
    assert doc.paragraphs == ["Advertisement"]


# --- properties -----------------------------------------------------------------------------

EXAMPLES = [t for r in builtin_rules() for t in (*r.examples_match, *r.examples_keep)]
PARAGRAPH = st.one_of(
    st.sampled_from([*EXAMPLES, "Story highlights", "Source", BODY_1, BODY_2]),
    st.text(min_size=1, max_size=80),
    st.text(alphabet="ab '’-\u00a0.\n", min_size=1, max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PARAGRAPH, max_size=14))
def test_idempotent_and_reversible(paragraphs: list[str]) -> None:
    paragraphs = [p for p in paragraphs if p.strip()]
    once = run(paragraphs)
    twice = run(once.paragraphs)
    assert twice.paragraphs == once.paragraphs
    assert not twice.edits and not twice.meta
    assert undo(once) == paragraphs


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    doc = Document.from_text("t", text)
    [out] = list(strip_artifacts([doc]))
    assert len(out.paragraphs) <= len(Document.from_text("t", text).paragraphs)


def test_word_gate_drops_only_words_whose_rules_are_too_short() -> None:
    """Printable ASCII folds to at least its length minus the two end spaces: a word whose
    rules all match fewer characters is not looked for, and any other word still is."""
    from cleanup.steps.artifacts import compile_rules

    rs = compile_rules(tuple(builtin_rules(known_ids=(REPEATED,))))
    for word, ns in rs.words:
        if not (word.isascii() and word.isprintable()):
            continue
        reach = max(rs.rules[n].max_chars for n in ns)
        for size in (reach, reach + 2, reach + 3, reach + 40):
            text = word + " " + "a" * (size - len(word) - 1)
            found = set(rs.candidates(text))
            if size - 2 <= reach:
                assert set(ns) <= found, (word, size)
            else:
                assert not set(ns) & found - set(rs.always), (word, size)


# --- prompts are matched as prompts -----------------------------------------------------------

SENTENCES_AFTER_LABELS = [
    "Photos - the city was quiet on Tuesday morning after the storm",
    "Watch: the mayor said nothing had been decided",
    "Read more: the council said on Tuesday that it would meet again next week to decide.",
    "Fotostrecke: die Stadt war am Dienstag nach dem Sturm ruhig",
    "Vidéo : le maire a dit que rien n'avait encore été décidé",
    "Foto: la ciudad estaba tranquila el martes por la mañana después de la tormenta",
]
PROMPTS = [
    "Scroll down for video",
    "WATCH: Sessions denies meeting Russian officials",
    "Photo: Evan Vucci/AP",
    "Read more: Sessions met Russian envoy during campaign",
    "Fotostrecke: Die Anhörung in Bildern",
    "Vidéo : le discours du ministre",
]


def test_sentences_that_open_with_a_prompt_word_stay_and_prompts_go() -> None:
    doc = run([BODY_1, *SENTENCES_AFTER_LABELS, *PROMPTS, BODY_2])
    assert doc.paragraphs == [BODY_1, *SENTENCES_AFTER_LABELS, BODY_2]
    assert sorted(e.before for e in doc.edits) == sorted(PROMPTS)


def test_cli_strip_artifacts_keeps_the_reported_sentences(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cleanup.cli import cli

    text = "\n\n".join([*SENTENCES_AFTER_LABELS[:2], "Scroll down for video", BODY_1]) + "\n"
    src = tmp_path / "in.txt"
    src.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["pipe", "-q", "-i", str(src), "-o", "-", "strip-artifacts"])
    assert result.exit_code == 0, result.output
    assert "Photos - the city was quiet" in result.output
    assert "Watch: the mayor said nothing had been decided" in result.output
    assert "Scroll down for video" not in result.output
    assert src.read_text(encoding="utf-8") == text
