"""Document ids held compactly: one UTF-8 blob and the end of each id (about 19 bytes per
short id instead of a Python string's 60-odd), since dedup's ledger keeps every live
document's id until the write pass names the copies that stay. See docs/architecture.md,
"Dedup".
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload


class Names(Sequence[str]):
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

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = self._ends[i - 1] if i else 0
        return self._blob[start : self._ends[i]].decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class Joined(Sequence[str]):
    """Two sequences of strings read as one (the run's ids, then the state entries')."""

    def __init__(self, first: Sequence[str], second: Sequence[str]) -> None:
        self.first, self.second = first, second

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        n = len(self.first)
        return self.first[i] if i < n else self.second[i - n]
