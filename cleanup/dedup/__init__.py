"""Dedup machinery: tokens and shingles, batch MinHash, LSH, clusters, and persistent state.

    settings.py    every dedup option: frozen dataclasses, the one home of defaults and ranges
    shingles.py    byte-level tokens (fold-equivalent), shingle hashes, fingerprints (numpy)
    mixing.py      MurmurHash3's 64-bit finalizer over arrays, the cached tables of powers
    minhash.py     batch MinHash, datasketch-compatible ("affine32" scheme)
    kernels.py     the compiled hashing loops (_kernels.c) when built, else None: numpy
    lsh.py         band parameters for a threshold, band keys as numpy arrays
    clusters.py    candidate pairs per bucket (joined to the bucket's first few), verified
                   edges, greedy clusters over the items with an edge (never chained)
    partitions.py  the candidate search in partitions, run on an Executor's partitions
    paragraphs.py  duplicate paragraphs inside one document (exact, near, composite)
    jobs.py        per-batch work for the workers (pure functions of one batch)
    spool.py       documents kept between the read and write passes; DeferredBatch
    kept.py        batches a worker keeps in its memory for the write pass (process engine)
    ledger.py      the read pass's numbers about the live documents
    decide.py      the corpus decisions: pure functions over arrays, frozen results
    documents.py   the near-duplicate documents' decision, held for the documents it touches
    sparse.py      a per-document column held only where it differs from its default
    resign.py      signing documents without their boilerplate
    corpus.py      the corpus-scope orchestrator: read, decide, write
    staging.py     what a run stages for its state
    site.py        which site a document belongs to
    store.py       what a state is (entries, staged changes, the Store interface)
    state.py       opening a state, committing to it, the `cleanup state` functions
    stores/        the backends (SQLite, Redis)

The step that uses all of this is cleanup/steps/dedup.py.
"""

from cleanup.dedup.minhash import MinHasher
from cleanup.dedup.state import export_state, open_store, prune_state, state_info

__all__ = ["MinHasher", "export_state", "open_store", "prune_state", "state_info"]
