"""Dedup machinery: tokens and shingles, batch MinHash, LSH, clusters, and persistent state.

    shingles.py    byte-level tokens (fold-equivalent), shingle hashes, fingerprints (numpy)
    minhash.py     batch MinHash, datasketch-compatible ("affine32" scheme)
    lsh.py         band parameters for a threshold, band keys as numpy arrays
    clusters.py    candidate pairs per bucket (joined to the bucket's first), union-find
    paragraphs.py  duplicate paragraphs inside one document (exact, near, composite)
    corpus.py      corpus scope: spool, decide, stream out; boilerplate; cross-document
    site.py        which site a document belongs to
    store.py       the state interface and `cleanup state` functions; stores/ the backends

The step that uses all of this is cleanup/steps/dedup.py.
"""

from cleanup.dedup.minhash import MinHasher
from cleanup.dedup.store import export_state, open_store, prune_state, state_info

__all__ = ["MinHasher", "export_state", "open_store", "prune_state", "state_info"]
