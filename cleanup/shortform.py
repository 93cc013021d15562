"""The short form of a rewrite in the audit trail: the changed middle of two texts, with a little
context on each side (see document.Edit.shortened)."""

from __future__ import annotations


def _common_prefix(a: str, b: str) -> int:
    """Return the length of the common prefix of a and b (binary search over C-level compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Return the length of the common suffix of a and b, at most `limit` (binary search).

    Why not the prefix of the reversed texts: reversing copies both texts, and the bound
    (what the prefix left) cuts the search short.
    """
    end_a, end_b = len(a), len(b)
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[end_a - mid : end_a - lo] == b[end_b - mid : end_b - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def short_change(old: str, new: str, width: int = 40) -> tuple[str, str]:
    """Return the changed middle of old/new with a little context, for a compact audit trail."""
    start = _common_prefix(old, new)
    lo = max(0, start - width // 4)
    span = width * 2
    # A common suffix shorter than `cut` leaves both middles longer than `span`, cut short
    # at `span` whatever its length: one compare then spares the search for the suffix.
    cut = min(len(old), len(new)) - lo - span
    if cut > 0 and old[len(old) - cut :] != new[len(new) - cut :]:
        return old[lo : lo + span] + "…", new[lo : lo + span] + "…"
    end = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_mid = old[lo : len(old) - end]
    new_mid = new[lo : len(new) - end]
    if len(old_mid) > span:
        old_mid = old_mid[:span] + "…"
    if len(new_mid) > span:
        new_mid = new_mid[:span] + "…"
    return old_mid, new_mid
