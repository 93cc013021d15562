"""Tests of the dedup step: paragraphs inside a document, and documents across a corpus."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.clusters import BUCKET_HEADS
from cleanup.dedup.paragraphs import (
    ParagraphSettings,
    exact_duplicates,
    features_batch,
    find_duplicates,
)
from cleanup.dedup.shingles import words
from cleanup.document import Document
from cleanup.pipeline import Context, Pipeline, step_spec
from cleanup.steps.normalize import fold

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VOCAB = [f"w{i}" for i in range(4000)]


def run_dedup(docs: list[Document], **options: object) -> list[Document]:
    """Run the dedup step alone over copies of documents and return what comes out.

    Steps edit the documents they are given; copies let a test compare with its input and
    run the same documents twice.
    """
    copies = copy.deepcopy(docs)
    return list(Pipeline(steps=["dedup"], context=Context(), **options).run(copies))


def sentence(rng: random.Random, n: int = 30) -> str:
    """Return n random vocabulary words (no two random sentences share shingles)."""
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def article(rng: random.Random, paragraphs: int = 8, words_each: int = 40) -> list[str]:
    """Return the paragraphs of a random article."""
    return [sentence(rng, words_each) for _ in range(paragraphs)]


def edited(rng: random.Random, paragraphs: list[str], rate: float) -> list[str]:
    """Return a copy of paragraphs with `rate` of the words substituted."""
    out = []
    for p in paragraphs:
        ws = p.split()
        for j in range(len(ws)):
            if rng.random() < rate:
                ws[j] = rng.choice(VOCAB)
        out.append(" ".join(ws))
    return out


def removed_edits(doc: Document) -> list:
    """Return the paragraph removals the dedup step recorded on a document."""
    return [e for e in doc.edits if e.step == "dedup" and e.kind == "remove"]


# Inside one document -------------------------------------------------------------------


def test_exact_copy_after_folding_goes_and_first_stays() -> None:
    body = "The minister said the talks, which began in July, would resume on Monday morning."
    copy = "the MINISTER said the talks which began in July would resume on Monday morning!"
    doc = Document(id="d", paragraphs=[body, "Other text here.", copy])
    (out,) = run_dedup([doc], scope="document")
    assert out.paragraphs == [body, "Other text here."]
    (edit,) = removed_edits(out)
    assert edit.rule == "exact-paragraph"
    assert edit.index == 2
    assert edit.detail["duplicate_of"] == 0
    assert edit.detail["similarity"] == 1.0


def test_quote_styles_and_brackets_fold_to_the_same_words() -> None:
    assert words("‘[T]his is Trump’s day’ – he said") == words("'this is Trump's day' - he said")


def test_caption_cut_short_goes_even_before_its_body_paragraph() -> None:
    body = (
        "Michael Flynn had been interviewed by the FBI in the first days of the Trump "
        "administration over claims he made about a talk with a Kremlin representative."
    )
    caption = (
        "Michael Flynn had been interviewed by the FBI over claims he made about a talk with "
        "a Kremlin repre"
    )
    doc = Document(id="d", paragraphs=[caption, "An unrelated line of text.", body])
    (out,) = run_dedup([doc], scope="document")
    assert out.paragraphs == ["An unrelated line of text.", body]
    (edit,) = removed_edits(out)
    assert edit.rule == "near-paragraph"
    assert edit.detail["duplicate_of"] == 2
    assert 0.75 <= edit.detail["similarity"] < 1.0


def test_near_copy_with_an_edited_word_goes_and_the_longer_stays() -> None:
    rng = random.Random(1)
    longer = sentence(rng, 40)
    ws = longer.split()[:36]
    ws[18] = "different"
    doc = Document(id="d", paragraphs=[" ".join(ws), sentence(rng), longer])
    (out,) = run_dedup([doc], scope="document")
    assert longer in out.paragraphs
    assert len(out.paragraphs) == 2


def test_different_paragraphs_sharing_a_few_phrases_stay() -> None:
    rng = random.Random(2)
    a = sentence(rng, 30)
    b = " ".join(a.split()[:12]) + " " + sentence(rng, 18)  # 12 of 30 words shared
    doc = Document(id="d", paragraphs=[a, b])
    (out,) = run_dedup([doc], scope="document")
    assert out.paragraphs == [a, b]


def test_short_paragraphs_are_only_removed_as_exact_copies() -> None:
    doc = Document(
        id="d",
        paragraphs=["Click here to read more now", "Click here to read more", "Share this"],
    )
    (out,) = run_dedup([doc], scope="document")
    assert out.paragraphs == doc.paragraphs
    doc2 = Document(id="e", paragraphs=["Share this", "Body text of the story.", "Share this!"])
    (out2,) = run_dedup([doc2], scope="document")
    assert out2.paragraphs == ["Share this", "Body text of the story."]


def test_statement_box_repeating_two_earlier_paragraphs_goes() -> None:
    rng = random.Random(3)
    first = "The agency said in a statement that " + sentence(rng, 25) + "."
    second = sentence(rng, 22) + "."
    middle = sentence(rng, 30)
    box = " ".join(first.split()[7:]) + " " + second
    doc = Document(id="d", paragraphs=[first, second, middle, box])
    (out,) = run_dedup([doc], scope="document")
    assert out.paragraphs == [first, second, middle]
    (edit,) = removed_edits(out)
    assert edit.rule == "repeated-sentences"
    assert edit.detail["duplicate_of"] == [0, 1]


def test_body_paragraph_is_not_removed_for_a_later_sidebar_quoting_it() -> None:
    rng = random.Random(4)
    s1, s2 = sentence(rng, 20), sentence(rng, 20)
    body = f"{s1}. {s2}."
    doc = Document(id="d", paragraphs=[body, sentence(rng), s1, s2])
    (out,) = run_dedup([doc], scope="document")
    assert body in out.paragraphs


def test_dropped_documents_pass_through_untouched() -> None:
    doc = Document(id="d", paragraphs=["Same text here.", "Same text here."])
    doc.drop("other", "rule", "why")
    (out,) = run_dedup([doc])
    assert out.paragraphs == ["Same text here.", "Same text here."]
    assert out.edits == []


# Captions that repeat a body paragraph (even cut short) and the statement box go; every body
# paragraph stays. A caption is recognised here by its opening words, read off the page.
CAPTION_HEADS = (
    "Attorney General Jeff Sessions said Thursday morning that while",
    "Sessions (shown at his confirmation hearing)",
    "This is the latest attack against the Trump Administration",
    "White House statement on allegations",
    "Scroll down for video",
    "Then-senator Sessions had a private conversation",
    "SESSIONS SAYS HE DIDN",
    "During Jeff Session",
    "Sen. Al Franken: ‘If there is any evidence",
    "Jeff Sessions: ‘Sen. Franken",
    "‘I have been called a surrogate",
    "Senate Judiciary Committee member",
    "Despite being asked about contacts between Trump's campaign and Russian officials at",
    "Despite being asked about contacts between Trump’s campaign and Russian officials at",
    "House Minority Leader Nancy Pelosi",
    "Rep. Elijah Cummings (D-Md.)",
    "Democratic lawmakers have called for Sessions to resign in the wake of the claims, incl",
    "Resign: In a series",
    "House Intelligence Committee chairman Devin Nunes",
    "Jeff Sessions attends Congress",
    "Donald Trump on Tuesday",
    "Sessions (left) and Trump (right)",
    "The latest claims about the attorney general will raise further questions about Trump",
    "Michael Flynn had been interviewed by the FBI \u00a0over",
    "Source",
)


def _collapse_consecutive(paragraphs: list[str]) -> list[str]:
    """Do what strip-artifacts does with repeated captions: keep one of consecutive equals."""
    out: list[str] = []
    for p in paragraphs:
        if not out or fold(out[-1]) != fold(p):
            out.append(p)
    return out


def test_daily_mail_fixture_keeps_every_body_paragraph() -> None:
    text = (FIXTURES / "dailymail_sessions.txt").read_text(encoding="utf-8")
    original = Document.from_text("dm", text).paragraphs
    for paragraphs in (original, _collapse_consecutive(original)):
        (out,) = run_dedup([Document(id="dm", paragraphs=list(paragraphs))], scope="document")
        kept = {fold(p) for p in out.paragraphs}
        body = [p for p in paragraphs if not p.startswith(CAPTION_HEADS)]
        assert len(body) > 60
        assert [p for p in body if fold(p) not in kept] == []
        statement = [p for p in out.paragraphs if p.startswith(CAPTION_HEADS[2])]
        cut_short = [p for p in out.paragraphs if p.startswith(CAPTION_HEADS[23])]
        assert statement == [] and cut_short == []
        folded = [fold(p) for p in out.paragraphs]
        assert len(folded) == len(set(folded)), "an exact repeat survived"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=12), st.integers(0, 9))
def test_every_removed_paragraph_points_at_a_kept_one(picks: list[int], seed: int) -> None:
    rng = random.Random(seed)
    pool = [sentence(rng, 12) for _ in range(4)]
    pool.append(pool[0] + " " + pool[1])  # a composite
    pool.append(" ".join(pool[2].split()[:10]))  # a cut-short copy
    doc = Document(id="d", paragraphs=[pool[i] for i in picks])
    before = list(doc.paragraphs)
    (out,) = run_dedup([doc], scope="document")
    kept_indices = [i for i in range(len(before)) if i not in {e.index for e in removed_edits(out)}]
    assert out.paragraphs == [before[i] for i in kept_indices]
    for edit in removed_edits(out):
        targets = edit.detail["duplicate_of"]
        for t in targets if isinstance(targets, list) else [targets]:
            assert t in kept_indices


# Across a corpus -------------------------------------------------------------------------


def _corpus(seed: int = 7) -> tuple[list[Document], dict[str, str]]:
    """Return 40 originals plus 10 copies with 5-10% of words edited, and who copies whom."""
    rng = random.Random(seed)
    originals = [Document(id=f"a{i}", paragraphs=article(rng)) for i in range(40)]
    copies, truth = [], {}
    for i in range(10):
        cut = originals[i].paragraphs[:-1]  # shorter: the original is more complete
        copies.append(Document(id=f"c{i}", paragraphs=edited(rng, cut, 0.05 + 0.005 * i)))
        truth[f"c{i}"] = f"a{i}"
    return originals + copies, truth


def _dropped(out: list[Document]) -> dict[str, str]:
    return {d.id: d.dropped.detail["duplicate_of"] for d in out if d.dropped is not None}


def test_near_duplicate_documents_are_dropped_and_the_most_complete_stays() -> None:
    docs, truth = _corpus()
    docs = docs[40:] + docs[:40]  # copies first: the longer originals still win
    out = run_dedup(docs, keep="longest")
    assert [d.id for d in out] == [d.id for d in docs]
    assert _dropped(out) == truth
    drop = next(d.dropped for d in out if d.dropped is not None)
    assert drop.step == "dedup" and drop.rule == "near-duplicate-document"
    assert set(drop.detail) == {"duplicate_of", "similarity", "cluster"}


def test_output_does_not_depend_on_input_order() -> None:
    docs, truth = _corpus(8)
    for seed in range(3):
        shuffled = list(docs)
        random.Random(seed).shuffle(shuffled)
        assert _dropped(run_dedup(shuffled, keep="longest")) == truth


def test_equal_copies_keep_the_first_in_input_order() -> None:
    rng = random.Random(9)
    text = article(rng)

    def docs() -> list[Document]:  # fresh ones for each run: steps edit documents in place
        return [Document(id=n, paragraphs=list(text)) for n in ("x", "y", "z")]

    assert _dropped(run_dedup(docs())) == {"y": "x", "z": "x"}
    assert _dropped(run_dedup(docs()[::-1])) == {"y": "z", "x": "z"}


def test_mark_keeps_duplicates_with_their_cluster() -> None:
    docs, truth = _corpus(10)
    out = run_dedup(docs, mark=True)
    assert all(d.dropped is None for d in out)
    marked = {d.id: d.meta["duplicate_of"] for d in out if "duplicate_of" in d.meta}
    assert marked == truth
    by_id = {d.id: d for d in out}
    for duplicate, original in truth.items():
        assert by_id[duplicate].meta["cluster"] == by_id[original].meta["cluster"]
    assert "cluster" not in by_id["a30"].meta


def test_a_bucket_of_ten_thousand_identical_documents_is_not_quadratic() -> None:
    n = 10_000
    docs = [
        Document(id=f"d{i}", paragraphs=["the same words in every document here"]) for i in range(n)
    ]
    context = Context()
    out = list(Pipeline(steps=["dedup"], context=context).run(docs))
    assert sum(d.dropped is not None for d in out) == n - 1
    # Each member is compared with at most BUCKET_HEADS members of its bucket.
    assert context.counters["dedup comparisons"] <= BUCKET_HEADS * n


def _site_docs(count: int, site: str, footer: str, seed: int) -> list[Document]:
    rng = random.Random(seed)
    return [
        Document(
            id=f"{site}-{i}",
            paragraphs=[*article(rng, 4), footer],
            fields={"url": f"https://www.{site}/story/{i}"},
        )
        for i in range(count)
    ]


def test_site_boilerplate_is_removed_from_every_document_having_it() -> None:
    footer = "Sign up for our newsletter and get the best stories every morning."
    docs = _site_docs(10, "example.com", footer, 11) + _site_docs(9, "other.org", footer, 12)
    out = run_dedup(docs, boilerplate_min_docs=10)
    for d in out:
        if d.id.startswith("example.com"):
            assert footer not in d.paragraphs
            (edit,) = removed_edits(d)
            assert edit.rule == "site-boilerplate" and edit.detail["site"] == "example.com"
        else:
            assert footer in d.paragraphs  # 9 documents of other.org: under the threshold
    assert all(d.dropped is None for d in out)


def test_site_field_names_the_site() -> None:
    footer = "All rights reserved by the publishing company of this site."
    docs = _site_docs(3, "a.com", footer, 13) + _site_docs(3, "b.com", footer, 14)
    for d in docs:
        d.fields["outlet"] = "same"
    assert all(
        footer not in d.paragraphs
        for d in run_dedup(docs, boilerplate_min_docs=6, site_field="outlet")
    )
    assert all(footer in d.paragraphs for d in run_dedup(docs, boilerplate_min_docs=6))


def test_cross_document_paragraphs_keep_the_first_copy() -> None:
    rng = random.Random(15)
    wire = sentence(rng, 40)
    docs = [Document(id=f"d{i}", paragraphs=[*article(rng, 3), wire]) for i in range(3)]
    out = run_dedup(docs, cross_doc_paragraphs="exact")
    assert wire in out[0].paragraphs
    for d in out[1:]:
        assert wire not in d.paragraphs
        (edit,) = removed_edits(d)
        assert edit.rule == "cross-document-paragraph" and edit.detail["duplicate_of"] == "d0"
    assert all(wire in d.paragraphs for d in run_dedup(docs))


def test_option_names_are_kebab_case_and_bind() -> None:
    spec = step_spec("dedup")
    assert spec.needs_context and not spec.per_document
    assert {o.name for o in spec.options} >= {
        "scope",
        "paragraph-threshold",
        "doc-threshold",
        "state",
    }
    step = spec.bind(Context(), scope="document")
    assert [d.paragraphs for d in step([Document(id="x", paragraphs=["a b", "a b"])])] == [["a b"]]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=10), st.integers(0, 9))
def test_the_batch_fast_path_never_skips_a_document_with_duplicates(
    picks: list[int], seed: int
) -> None:
    rng = random.Random(seed)
    pool = [sentence(rng, rng.choice([4, 12, 20])) for _ in range(5)]
    pool.append(pool[1] + " " + pool[2])
    pool.append(" ".join(pool[2].split()[:9]))
    pool.append(pool[0].upper())
    docs = [[pool[i] for i in picks], [pool[i] for i in reversed(picks)]]
    batch = features_batch(docs, ParagraphSettings())
    with mock.patch("cleanup.dedup.paragraphs._near_suspects", lambda *a: np.ones(a[4], bool)):
        everything = features_batch(docs, ParagraphSettings())
    for k, feat in enumerate(everything.docs):
        if not batch.suspect[k]:
            assert find_duplicates(feat, ParagraphSettings()) == []
        elif not batch.near[k]:  # only exact repeats: no shingle sets needed
            assert find_duplicates(feat, ParagraphSettings()) == exact_duplicates(feat.fps)


def test_cross_document_near_paragraphs_keep_the_first_copy() -> None:
    rng = random.Random(16)
    wire = sentence(rng, 60)
    docs = []
    for i in range(4):
        words_ = wire.split()
        if i:
            words_[10 * i] = f"changed{i}"  # one word in 60: a near, not an exact, copy
        copy = " ".join(words_)
        paragraphs = article(rng, 3)
        paragraphs.insert(i % 3, copy)
        docs.append(Document(id=f"d{i}", paragraphs=paragraphs))
    out = run_dedup(docs, cross_doc_paragraphs="near")
    assert out[0].paragraphs == docs[0].paragraphs
    for d, original in zip(out[1:], docs[1:], strict=True):
        (edit,) = removed_edits(d)
        assert edit.rule == "cross-document-paragraph"
        assert edit.detail["duplicate_of"] == "d0" and edit.detail["similarity"] >= 0.75
        assert edit.before == original.paragraphs[edit.index]
        assert len(d.paragraphs) == 3
    assert [d.paragraphs for d in run_dedup(docs, cross_doc_paragraphs="exact")][1:] == [
        d.paragraphs for d in docs[1:]
    ]
