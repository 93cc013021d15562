"""Fast paths of the dedup step give what the plain paths give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cleanup.dedup.shingles import _lowered
from cleanup.document import Document
from cleanup.pipeline import Context, Pipeline

TRICKY = "ΣσςİıßẞﬁǅÅΩKµ’“”—\u00a0\u0301\ud800😀AaZz "


@given(st.text(alphabet=st.sampled_from(list(TRICKY)) | st.characters(), max_size=60))
def test_lower_utf8_matches_str_lower(text: str) -> None:
    assert _lowered(text)[0] == text.lower().encode("utf-8", "surrogatepass")


def _corpus(sep: str) -> list[Document]:
    boiler = "Subscribe to our newsletter for the latest local news every single morning today"
    docs = []
    for i in range(14):
        body = [
            f"Story {i} tells how the council of town number {i} voted on road {j} repairs"
            f" after a debate that lasted {i + j} hours and ended late"
            for j in range(4)
        ]
        docs.append(Document(id=f"d{i}", paragraphs=[*body, boiler], sep=sep, site="town"))
    copy = Document(id="copy", paragraphs=list(docs[3].paragraphs), sep=sep, site="town")
    copy.paragraphs[1] = copy.paragraphs[1].replace("voted", "decided")
    return [*docs, copy]


def _outcome(sep: str) -> list[tuple[str, list[str], str | None]]:
    out = Pipeline(steps=["dedup"], context=Context()).run(_corpus(sep))
    return [(d.id, d.paragraphs, d.dropped.rule if d.dropped else None) for d in out]


def test_resigning_without_boilerplate_is_the_same_for_any_separator() -> None:
    """' | ' forces re-signing from texts; blank lines use the spooled tokens."""
    fast, plain = _outcome("\n\n"), _outcome(" | ")
    assert fast == plain
    assert any(rule == "near-duplicate-document" for _, _, rule in fast)
    assert all(len(paragraphs) == 4 for _, paragraphs, rule in fast if rule is None)
