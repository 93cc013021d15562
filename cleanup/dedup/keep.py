"""Which copy stays among near duplicates: the --keep policy as a priority per document.

longest: the most complete copy (most tokens). first: the first in input order. earliest:
the oldest by date (the --date-field value, else the page's date that strip-html read from
its metadata), documents without a readable date after the dated ones, in input order.
For news, the original report is the earliest copy and rewrites add words around it, which
is why `earliest` is the default (see README, "Dedup"). Whatever the policy, a document
published before (in --state) always stays, and under containment the containing copy stays.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from cleanup.dedup.rowfile import Rows
from cleanup.document import Document
from cleanup.io.fieldpath import MISSING, get_path, split_path

POLICIES = ("earliest", "first", "longest")


def document_date(doc: Document, date_field: str = "") -> float:
    """Return the document's date as POSIX seconds (UTC), or NaN when it has none we can read.

    The --date-field value (a dotted path into the record) when given, else the `date`
    metadata strip-html read from the page.
    """
    value = get_path(doc.fields, split_path(date_field)) if date_field else doc.meta.get("date")
    return parse_date(value)


def parse_date(value: Any) -> float:
    """Return POSIX seconds for an ISO 8601 date or date-time (naive: UTC) or a number, else NaN."""
    if value is MISSING or value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else math.nan
    if not isinstance(value, str):
        return math.nan
    text = value.strip()
    try:
        when = dt.datetime.fromisoformat(
            text.replace("Z", "+00:00") if text.endswith("Z") else text
        )
    except ValueError:
        return math.nan
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def keep_priority(
    policy: str, lengths: np.ndarray, dates: Rows | None, items: np.ndarray
) -> np.ndarray:
    """Return the priority of live documents `items` under `policy` (lower stays; ties: input
    order). Only the order among the items asked about is meant: the walk over a cluster's
    documents asks about those, so nothing is computed for the documents in no cluster.
    """
    if policy == "longest":
        return -lengths[items].astype(np.int64)
    if policy == "first" or dates is None:
        return items.astype(np.int64)
    when = np.asarray(dates[items], dtype=np.float64).reshape(-1)  # rows of a file, or not
    undated = np.isnan(when)
    order = np.lexsort((items, np.where(undated, 0.0, when), undated))
    prio = np.empty(len(items), dtype=np.int64)
    prio[order] = np.arange(len(items))
    return prio
