"""With scratch space the read pass leaves each batch's token hashes there (jobs.TokenRef) and
the signing jobs read them back: the same signatures and output as tokens kept in memory."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cleanup.dedup import corpus, resign
from cleanup.dedup.jobs import SummaryJob, TokenRef, load_tokens, summary_job
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.settings import DedupSettings
from cleanup.document import Document
from cleanup.executor import LocalExecutor
from cleanup.pipeline import Context, Pipeline

SITE_LINES = ["Subscribe to our newsletter for the latest news every morning today."] * 3


def _corpus(seed: int = 3) -> list[Document]:
    """Near copies, shared boilerplate on two sites, and documents with nothing left."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    stories = [" ".join(rng.choice(vocab) for _ in range(60)) for _ in range(30)]
    docs = []
    for i in range(150):
        story = stories[i % 30]
        if i >= 30:  # a near copy: a few words changed
            words = story.split()
            for _ in range(3):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            story = " ".join(words)
        extra = SITE_LINES[i % 3] if i % 2 else "Story highlights"
        meta = {"url": f"https://site{i % 2}.example/{i}"}
        text = f"{story}\n\n{extra}\n\nEnd of story {i}." if i % 37 else ""
        docs.append(Document(id=f"d{i}", paragraphs=text.split("\n\n") if text else [], meta=meta))
    return docs


class _InScratch(LocalExecutor):
    """Run here, but as an engine with scratch space does: batches and tokens left there."""

    remote = True

    def __init__(self, folder: str) -> None:
        self.scratch = folder


def _run(executor: LocalExecutor) -> list[tuple[Any, ...]]:
    options = {"boilerplate_min_docs": 2, "mark": True}
    out = Pipeline(steps=["dedup"], context=Context(), executor=executor, **options).run(_corpus())
    return [(d.id, d.paragraphs, d.dropped and d.dropped.detail, d.meta) for d in out]


def test_tokens_left_in_scratch_read_as_the_tokens_themselves(tmp_path: Path) -> None:
    settings = DedupSettings.from_options(boilerplate_min_docs=2)
    here = summary_job(SummaryJob(settings, sign=False, pickled=False), _corpus()[:40])
    job = SummaryJob(settings, sign=False, pickled=True, scratch=str(tmp_path))
    left = summary_job(job, _corpus()[:40])
    assert isinstance(left.tokens, TokenRef) and os.path.isfile(left.tokens.ref.path)
    assert isinstance(here.tokens, tuple)
    assert left.tokens.paragraphs == len(here.tokens[0]) > 0
    for got, want in zip(load_tokens(left.tokens), here.tokens, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)


def _signed(monkeypatch: pytest.MonkeyPatch, executor: LocalExecutor, texts: bool = False) -> Any:
    """Run dedup; return its output and the signatures, fingerprints and lengths it signed."""
    original, seen, keyed = corpus.sign_all, [], []
    monkeypatch.setattr(resign, "KEY_ROWS", 7)  # keys written in several blocks

    def recorded(spool: Any, ledger: Any, boiler: Any, fps: Any, lengths: Any, *args: Any) -> Any:
        if texts:
            ledger.tokens_usable = False  # sign and verify by tokenizing the spooled texts
        before = fps.copy()
        sigs, signed_fps = original(spool, ledger, boiler, fps, lengths, *args)
        assert np.array_equal(fps, before)  # the texts as they came in: left as they were
        rows = np.concatenate([block for _, block in sigs.blocks()])
        seen.append((rows, signed_fps.span(0, len(signed_fps)).reshape(-1), lengths.copy()))
        if ledger.bands is not None:  # made by the signers: the keys of the signatures
            bands = DedupSettings.from_options(boilerplate_min_docs=2).bands
            assert np.array_equal(ledger.bands.block(0, len(rows)), band_keys(rows, *bands))
            keyed.append(True)
        return sigs, signed_fps

    monkeypatch.setattr(corpus, "sign_all", recorded)
    out = _run(executor)
    assert (keyed == [True]) if executor.remote and not texts else not keyed
    ((rows, fps, lengths),) = seen
    return out, rows, fps, lengths


def test_dedup_with_tokens_in_scratch_gives_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, *arrays = _signed(monkeypatch, LocalExecutor())
    for executor, texts in ((_InScratch(str(tmp_path)), False), (LocalExecutor(), True)):
        out, *got = _signed(monkeypatch, executor, texts)
        assert out == here
        for a, b in zip(got, arrays, strict=True):  # signed without boilerplate, as from texts
            assert np.array_equal(a, b)
    assert sum("duplicate_of" in meta for *_, meta in here) > 100  # near copies were marked
    assert not any(SITE_LINES[0] in paras for _, paras, _, _ in here)  # boilerplate removed
    assert os.listdir(tmp_path)  # the batches and tokens went there


@pytest.mark.parametrize("seed", range(4))
def test_band_keys_from_the_signers_are_those_of_the_signatures(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys put batch by batch, with documents not signed between and after, are the keys of
    the signature file where those documents keep MAX_HASH."""
    monkeypatch.setattr(resign, "KEY_ROWS", 5)  # several blocks written
    settings = DedupSettings.from_options()
    rng = np.random.default_rng(seed)
    n, num_perm = 60, settings.minhash.num_perm
    sigs = np.full((n, num_perm), int(resign.MAX_HASH), np.uint32)
    keys = resign._Keys(n, settings, None)
    signed = np.sort(rng.choice(n - 3, 35, replace=False))  # the last three never signed
    for chunk in np.array_split(signed, 9):
        sigs[chunk] = rng.integers(0, 1 << 32, (len(chunk), num_perm), dtype=np.uint32)
        keys.put(chunk, band_keys(sigs[chunk], *settings.bands))
    got = keys.done(n)
    assert np.array_equal(got.block(0, n), band_keys(sigs, *settings.bands))
    got.close()
