"""One recorded change to a document: `Edit`, what every step makes and the audit trail holds.

Documents make and record edits (cleanup/document.py, `Document.apply`); see
docs/architecture.md, "Steps".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cleanup.shortform import short_change as _short_change
from cleanup.slots import slot_values as _values


class EditError(ValueError):
    """Report an edit that does not fit the document: a bug in the step that built it.

    Why: an edit recorded against the wrong paragraph would make the audit trail lie, so a
    mismatch stops the run instead of being recorded.
    """


@dataclass(slots=True)
class Edit:
    """Record one change a step made, so it can be shown, explained and undone.

    Not frozen: a frozen dataclass costs five times as much to build, and an edit is built
    for every changed paragraph of a corpus; treat it as a value all the same.

    Build edits with the named constructors (`removal`, `move`, `rewrite`, `whole`, `drop`)
    and make them with `Document.apply`. `before` holds a removed paragraph in full; an
    in-place rewrite is recorded in a short form unless full detail was asked for (worked
    out when its texts are first read: see `ShortOnRead`). `index`
    is the paragraph's position when the edit was made (-1 for document-level edits).
    `detail` carries extra facts such as `duplicate_of` and `similarity`.
    """

    step: str
    rule: str
    before: str
    after: str
    why: str = ""
    index: int = -1
    detail: dict[str, Any] | None = None
    kind: str = "rewrite"

    @classmethod
    def removal(
        cls,
        step: str,
        rule: str,
        index: int,
        text: str,
        why: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Edit:
        """Build the removal of paragraph `index`, whose text is `text` (kept in full)."""
        return cls(step, rule, text, "", why, index, detail, "remove")

    @classmethod
    def move(
        cls,
        step: str,
        rule: str,
        index: int,
        text: str,
        why: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Edit:
        """Build the move of paragraph `index` out of the text (into metadata, named by detail)."""
        return cls(step, rule, text, "", why, index, detail, "move")

    @classmethod
    def rewrite(
        cls, step: str, rule: str, index: int, before: str, after: str, why: str = ""
    ) -> Edit:
        """Build the replacement of paragraph `index` (text `before`) with `after`, both in full.

        `Document.apply` records it in short form unless the run asked for full detail.
        """
        return cls(step, rule, before, after, why, index)  # positional: hot in normalize

    @classmethod
    def whole(
        cls,
        step: str,
        rule: str,
        before: str,
        after: str,
        why: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Edit:
        """Build a change of the whole document (index -1): a decoding, an HTML extraction.

        `before` and `after` describe the change ("<html> 5120 bytes", "12 paragraphs");
        `Document.apply` records it and leaves the paragraphs to the step.
        """
        return cls(
            step=step, rule=rule, before=before, after=after, why=why, index=-1, detail=detail
        )

    @classmethod
    def drop(
        cls, step: str, rule: str, why: str = "", detail: dict[str, Any] | None = None
    ) -> Edit:
        """Build the verdict that drops a whole document (see Document.drop)."""
        return cls(
            step=step,
            rule=rule,
            before="",
            after="",
            why=why,
            index=-1,
            detail=detail,
            kind="drop",
        )

    @property
    def removed(self) -> bool:
        """Tell whether this edit removed a paragraph (as opposed to rewriting it)."""
        return self.kind == "remove"

    def shortened(self) -> Edit:
        """Return this rewrite with only the changed middle of its texts, for a compact trail."""
        before, after = _short_change(self.before, self.after)
        # Positional: keywords cost a third more.
        return Edit(
            self.step, self.rule, before, after, self.why, self.index, self.detail, self.kind
        )

    def short_on_read(self) -> Edit:
        """Return a copy of this rewrite that becomes `shortened()` when its texts are first read.

        Why: `Document.apply` records every rewrite in short form, but only the audit trail,
        `cleanup explain` and callers of the library read it; a plain run never does, and
        working out the changed middle of every rewritten paragraph was a third of the cost
        of normalizing a corpus. Reading `before` or `after` (or comparing, printing,
        pickling, copying the edit) gives exactly what `shortened()` gives.
        """
        # Positional: this runs once per rewritten paragraph, and keywords cost a third more.
        edit = Edit(
            self.step,
            self.rule,
            self.before,
            self.after,
            self.why,
            self.index,
            self.detail,
            self.kind,
        )
        edit.__class__ = ShortOnRead  # the same slots: the class says "not shortened yet"
        return edit

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple: dataclasses' generic slots pickling is several times slower."""
        return (Edit, _values(self))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form of the edit."""
        out: dict[str, Any] = {
            "step": self.step,
            "rule": self.rule,
            "before": self.before,
            "after": self.after,
            "why": self.why,
            "index": self.index,
            "kind": self.kind,
        }
        if self.detail:
            out["detail"] = self.detail
        return out


class SettleOnRead(Edit):
    """An Edit whose class says some slot still holds what it is made from, not its value.

    Why: an edit is built for every changed paragraph of a corpus, but most runs never read
    some of what it records (the short form of a rewrite, an exact repeat's detail); a
    subclass stores the makings and `_settle` works the value out when first read, turning
    the object into the plain `Edit` it would have been. Comparing and printing settle
    first, so they see that Edit. Subclasses: `ShortOnRead` here, `dedup.copies._CopyDetail`.
    """

    __slots__ = ()

    def _settle(self) -> None:
        """Work out the value, store it and become a plain Edit."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        self._settle()
        return self == other

    def __repr__(self) -> str:
        self._settle()
        return repr(self)


# The slots of Edit's two texts, read and written beneath ShortOnRead's properties.
_BEFORE = Edit.__dict__["before"]
_AFTER = Edit.__dict__["after"]


class ShortOnRead(SettleOnRead):
    """A rewrite recorded with its whole texts that shortens them when they are first read.

    An instance is an `Edit` whose class says its texts are still whole: the first read of
    `before` or `after` replaces both with `_short_change` of them and makes the object a
    plain Edit again, so everything after that (and `type`) sees exactly the edit that
    `Edit.shortened()` builds. Comparing, printing, pickling and copying read the texts first.
    Assigning a text shortens the recorded ones first, as a read would, then sets it.
    """

    __slots__ = ()

    def _settle(self) -> None:
        """Become a plain Edit and shorten the texts in place (plain slots from then on)."""
        self.__class__ = Edit  # type: ignore[assignment]
        self.before, self.after = _short_change(self.before, self.after)

    def _read_before(self) -> str:
        self._settle()
        return self.before

    def _read_after(self) -> str:
        self._settle()
        return self.after

    def _write_before(self, value: str) -> None:
        self._settle_for_write()
        self.before = value

    def _write_after(self, value: str) -> None:
        self._settle_for_write()
        self.after = value

    def _settle_for_write(self) -> None:
        """Shorten the recorded texts before one is replaced (if any: not while being built)."""
        if _has_texts(self):
            self._settle()
        else:
            self.__class__ = Edit  # type: ignore[assignment]

    before = property(_read_before, _write_before)
    after = property(_read_after, _write_after)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and copy) as the shortened Edit."""
        self._settle()
        return self.__reduce__()


def _has_texts(edit: Edit) -> bool:
    try:
        _BEFORE.__get__(edit)
        _AFTER.__get__(edit)
    except AttributeError:
        return False
    return True
