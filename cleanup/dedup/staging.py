"""What a dedup run stages for its persistent state: written only once the output is published.

See cleanup/dedup/store.py for the state itself and docs/architecture.md, "State".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cleanup.dedup.decide import count_distinct
from cleanup.dedup.documents import DocumentDecision
from cleanup.dedup.ledger import Ledger
from cleanup.dedup.state import PendingCommit
from cleanup.dedup.store import NewEntry, Staged, Store


class StateStaging:
    """Collect, document by document, what the state learns from this run."""

    def __init__(self, store: Store, settings: dict[str, Any], run_id: str, started: float):
        self.store = store
        self.settings = settings
        self.staged = Staged(run_id=run_id, started=started)
        self.new_docs: list[int] = []

    def stage(
        self,
        i: int,
        ledger: Ledger,
        rows: tuple[np.ndarray, np.ndarray],
        ident: np.ndarray,
        lengths: np.ndarray,
        keys_of: list[str],
        known: dict[str, tuple[int, int]],
        decision: DocumentDecision,
        mark: bool,
    ) -> None:
        """Stage what the state learns from live document i (nothing from a duplicate).

        `rows` are its signature and band keys (read by the caller a batch at a time).
        """
        if decision.dropped[i] or lengths[i] == 0:
            return
        if mark and decision.winner[i] >= 0:
            return
        key = keys_of[i]
        if key in known and known[key][1] == int(ident[i]):
            self.staged.seen_again.append(key)
            return
        if key not in known:
            self.new_docs.append(i)
        self.staged.entries.append(
            NewEntry(
                key=key,
                id=ledger.ids[i],
                explicit=bool(ledger.explicit[i]),
                fp=int(ident[i]),
                length=int(lengths[i]),
                sig=rows[0],
                band_keys=rows[1],
            )
        )

    def finish(
        self,
        ledger: Ledger,
        ident: np.ndarray,
        seen_text: np.ndarray,
        decision: DocumentDecision,
        count_boilerplate: bool,
    ) -> None:
        """Stage the run's totals and, with boilerplate on, the new boilerplate counts.

        The state counts only documents it keeps, each text once: a rerun or a dropped copy
        never counts twice.
        """
        n = len(ledger.ids)
        self.staged.docs = n
        self.staged.dropped = decision.dropped.count()
        if count_boilerplate:
            mask = np.zeros(n, dtype=bool)
            mask[self.new_docs] = True
            mask &= ~seen_text
            self.staged.boiler_keys, self.staged.boiler_counts = count_distinct(
                *ledger.boiler_table(), ident, mask
            )

    def pending(self, wait: float = 0.0) -> PendingCommit:
        """Return what commit() will write, for the run's publish journal."""
        # One id twice in a run (a page scraped twice): the later version is the entry.
        self.staged.entries = list({e.key: e for e in self.staged.entries}.values())
        return PendingCommit(self.store.location, wait, self.staged, self.settings)

    def commit(self) -> None:
        """Write what this run staged into the state (once the output is published)."""
        pending = self.pending()
        self.store.commit(pending.staged, pending.settings)
