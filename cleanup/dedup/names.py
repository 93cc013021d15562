"""Document ids held compactly: one UTF-8 blob and the end of each id (about 19 bytes per
short id instead of a Python string's 60-odd), since dedup's ledger keeps every live
document's id until the write pass names the copies that stay. See docs/architecture.md,
"Dedup".
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload


class _Strings(Sequence[str]):
    """A read-only sequence of strings: subclasses give `__len__` and `_at` (0 <= i < len)."""

    def _at(self, i: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._at(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._at(i)

    def __iter__(self) -> Iterator[str]:
        return (self._at(i) for i in range(len(self)))


class Names(_Strings):
    """Hold a growing list of strings as one blob (any string, lone surrogates included)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._blob = bytearray()
        self._ends = array("q")
        self.extend(names)

    def extend(self, names: Iterable[str]) -> None:
        """Append these strings."""
        blob, ends = self._blob, self._ends
        for name in names:
            blob += name.encode("utf-8", "surrogatepass")
            ends.append(len(blob))

    def __len__(self) -> int:
        return len(self._ends)

    def _at(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._blob[start : self._ends[i]].decode("utf-8", "surrogatepass")


class Joined(_Strings):
    """Two sequences of strings read as one (the run's ids, then the state entries')."""

    def __init__(self, first: Sequence[str], second: Sequence[str]) -> None:
        self.first, self.second = first, second

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    def _at(self, i: int) -> str:
        n = len(self.first)
        return self.first[i] if i < n else self.second[i - n]
