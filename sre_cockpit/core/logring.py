"""The log pane's buffer: rows packed in compressed blocks, :class:`Row` objects made on demand.

100,000 buffered lines held as one :class:`Row` each cost ~414 B a line (the text ~217 B, the
``Row`` 104 B, its id and timestamp ints 68 B, the ring's and the view's slots 16 B). Here the
newest rows (the open block, what a following pane draws) stay :class:`Row` objects; every
:data:`BLOCK` rows are sealed into columns: the texts joined and zlib-compressed (log lines
repeat: ~5-8× smaller), character offsets, timestamps and levels in arrays, label sets by index,
and the rare raw/marks/metadata/cell-width exceptions in sparse maps. A sealed row becomes a
:class:`Row` again only when something reads it (drawn, searched, copied); the last few of those
are cached (:data:`ROW_CACHE`), as are the last few decompressed blocks, so scrolling and
repaints do not decompress again. A level detected on a cached row is written back when the row
leaves the cache, so level detection stays once per line.

The view (what the filter lets through) is a :class:`RowView`: row ids in an array, rows looked
up by id. Nothing here draws or imports Textual.
"""

from __future__ import annotations

import bisect
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import overload

from sre_cockpit.core.loglines import UNKNOWN, Row, make_row
from sre_cockpit.core.models import LogLine

__all__ = ["BLOCK", "ROW_CACHE", "Entry", "RowStore", "RowView", "chunks", "entries_of"]

BLOCK = 512
"""Rows per sealed block (one compressed text each: ~80 KB of text before compression)."""
ROW_CACHE = 4096
"""Sealed rows kept as :class:`Row` objects once read (a few screens of scrolling)."""
TEXT_CACHE = 4
"""Decompressed blocks kept (a screen spans at most two; searching walks them in order)."""
_NO_LEVEL = 255  # UNKNOWN in the levels bytearray
_EMPTY: Mapping[str, str] = MappingProxyType({})

Entry = tuple[int, str, int, Mapping[str, str]]
"""(row id, text, cells, labels): what the view's layout, filter and search read of a row."""


def chunks(entries: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    """``entries`` in lists of ``size`` (a rebuild holds one chunk of texts at a time)."""
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def entries_of(rows: Iterable[Row]) -> Iterator[Entry]:
    """The :data:`Entry` of each row (a moment's rows, a new batch)."""
    for row in rows:
        yield row.id, row.text, row.cells, row.labels


class _Sealed:
    """:data:`BLOCK` consecutive rows in columns (ids ``first_id`` … ``first_id + count - 1``)."""

    __slots__ = ("cells", "count", "first_id", "label_index", "label_sets", "levels", "marks",
                 "metadata", "offsets", "raws", "text", "ts")

    def __init__(self, rows: Sequence[Row]) -> None:
        self.first_id = rows[0].id
        self.count = len(rows)
        self.ts = array("q", (r.ts_ns for r in rows))
        joined = "".join(r.text for r in rows)
        self.text = zlib.compress(joined.encode("utf-8", "surrogatepass"), 1)
        offsets = array("I", [0])
        total = 0
        for r in rows:
            total += len(r.text)
            offsets.append(total)
        self.offsets = offsets
        self.levels = bytearray(_NO_LEVEL if r.level == UNKNOWN else r.level for r in rows)
        sets: list[Mapping[str, str]] = []
        where: dict[int, int] = {}
        index = array("H")
        for r in rows:
            found = where.get(id(r.labels))
            if found is None:
                found = where[id(r.labels)] = len(sets)
                sets.append(r.labels)
            index.append(found)
        self.label_sets = tuple(sets)
        self.label_index = index
        self.raws = {i: r.raw for i, r in enumerate(rows) if r.raw != r.text}
        self.marks = {i: r.marks for i, r in enumerate(rows) if r.marks}
        self.metadata = {i: r.metadata for i, r in enumerate(rows) if r.metadata}
        self.cells = {i: r.cells for i, r in enumerate(rows) if r.cells != len(r.text)}

    def texts(self) -> list[str]:
        """Every row's text, decompressed."""
        joined = zlib.decompress(self.text).decode("utf-8", "surrogatepass")
        offsets = self.offsets
        return [joined[offsets[i]:offsets[i + 1]] for i in range(self.count)]

    def row(self, i: int, text: str) -> Row:
        """Row ``i`` of the block as a :class:`Row` (``text``: its decompressed text)."""
        level = self.levels[i]
        return Row(self.first_id + i, self.ts[i], self.raws.get(i, text),
                   self.label_sets[self.label_index[i]], self.metadata.get(i, _EMPTY), text,
                   self.marks.get(i, ()), UNKNOWN if level == _NO_LEVEL else level,
                   self.cells.get(i, len(text)))


class RowStore:
    """The bounded ring of buffered rows, oldest first (a ``deque[Row]`` to its readers)."""

    def __init__(self) -> None:
        self.next_id = 0
        """Id of the next line (ids keep increasing across :meth:`clear`)."""
        self._sealed: deque[_Sealed] = deque()
        self._starts: list[int] = []
        """First id of each sealed block (bisected to find a row's block)."""
        self._skip = 0
        """Rows of the oldest sealed block already evicted."""
        self._open: list[Row] = []
        self._len = 0
        self._rows: dict[int, Row] = {}
        """Sealed rows made into :class:`Row` objects, oldest first (FIFO, :data:`ROW_CACHE`)."""
        self._texts: dict[int, list[str]] = {}
        """Decompressed texts of recently read blocks, by first id (:data:`TEXT_CACHE`)."""

    # ----------------------------------------------------------------- size and order

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    @property
    def first_id(self) -> int | None:
        """Id of the oldest buffered row (None: empty)."""
        if self._sealed:
            return self._sealed[0].first_id + self._skip
        return self._open[0].id if self._open else None

    def ids(self) -> Iterator[int]:
        """Ids of every buffered row, oldest first (no row is built)."""
        skip = self._skip
        for block in self._sealed:
            yield from range(block.first_id + skip, block.first_id + block.count)
            skip = 0
        for row in self._open:
            yield row.id

    # ----------------------------------------------------------------------- writing

    def add_lines(self, lines: Sequence[LogLine], max_line_bytes: int,
                  max_lines: int) -> tuple[list[Row], int]:
        """Sanitise and append lines (oldest first), keeping at most ``max_lines`` rows.

        Returns:
            The new rows still buffered, and how many rows left the buffer (older rows
            evicted, plus the lines of a batch larger than the whole buffer never kept).
        """
        skipped = max(0, len(lines) - max_lines)
        self.next_id += skipped
        rows = []
        for line in lines[skipped:]:
            rows.append(make_row(self.next_id, line, max_line_bytes))
            self.next_id += 1
        self.extend(rows)
        over = max(0, self._len - max_lines)
        self.evict(over)
        return rows, skipped + over

    def extend(self, rows: Iterable[Row]) -> None:
        """Append rows (ids increasing); every :data:`BLOCK` of them is sealed."""
        opened = self._open
        for row in rows:
            if opened and row.id != opened[-1].id + 1:
                self._seal()  # an id gap (lines skipped): a block covers consecutive ids
                opened = self._open
            opened.append(row)
            self._len += 1
            if len(opened) >= BLOCK:
                self._seal()
                opened = self._open

    def _seal(self) -> None:
        if not self._open:
            return
        if not self._sealed:
            self._skip = 0
        block = _Sealed(self._open)
        self._sealed.append(block)
        self._starts.append(block.first_id)
        self._open = []

    def evict(self, count: int) -> None:
        """Drop the ``count`` oldest rows."""
        count = min(count, self._len)
        self._len -= count
        while count and self._sealed:
            block = self._sealed[0]
            take = min(count, block.count - self._skip)
            count -= take
            self._skip += take
            if self._skip >= block.count:
                self._drop_block()
        if count:
            del self._open[:count]
        if not self._sealed:
            self._skip = 0

    def _drop_block(self) -> None:
        block = self._sealed.popleft()
        del self._starts[0]
        self._skip = 0
        self._texts.pop(block.first_id, None)
        end = block.first_id + block.count
        for row_id in [i for i in self._rows if i < end]:
            del self._rows[row_id]

    def clear(self) -> None:
        """Empty the buffer."""
        self._sealed.clear()
        self._starts.clear()
        self._open = []
        self._skip = 0
        self._len = 0
        self._rows.clear()
        self._texts.clear()

    # ----------------------------------------------------------------------- reading

    def get(self, row_id: int) -> Row:
        """The row with id ``row_id`` (a buffered id).

        Raises:
            KeyError: for an id not in the buffer.
        """
        opened = self._open
        if opened and row_id >= opened[0].id:
            i = row_id - opened[0].id
            if i < len(opened):
                return opened[i]
            raise KeyError(row_id)
        row = self._rows.get(row_id)
        if row is not None:
            return row
        pos = bisect.bisect_right(self._starts, row_id) - 1
        if pos < 0:
            raise KeyError(row_id)
        block = self._sealed[pos]
        i = row_id - block.first_id
        if i >= block.count or (pos == 0 and i < self._skip):
            raise KeyError(row_id)
        row = block.row(i, self._block_texts(block)[i])
        self._remember(row)
        return row

    def _block_texts(self, block: _Sealed) -> list[str]:
        texts = self._texts.get(block.first_id)
        if texts is None:
            if len(self._texts) >= TEXT_CACHE:
                del self._texts[next(iter(self._texts))]
            texts = self._texts[block.first_id] = block.texts()
        return texts

    def _remember(self, row: Row) -> None:
        rows = self._rows
        if len(rows) >= ROW_CACHE:
            old_id = next(iter(rows))
            old = rows.pop(old_id)
            if old.level != UNKNOWN:  # keep a detected level for the next read
                pos = bisect.bisect_right(self._starts, old_id) - 1
                if pos >= 0:
                    block = self._sealed[pos]
                    if old_id - block.first_id < block.count:
                        block.levels[old_id - block.first_id] = old.level
        rows[row.id] = row

    def entries(self) -> Iterator[Entry]:
        """(id, text, cells, labels) of every buffered row, oldest first: what filters,
        searches and the layout read (no :class:`Row` is built for a sealed row)."""
        skip = self._skip
        for block in self._sealed:
            texts = self._texts.get(block.first_id) or block.texts()
            cells, sets, index = block.cells, block.label_sets, block.label_index
            first = block.first_id
            for i in range(skip, block.count):
                text = texts[i]
                yield first + i, text, cells.get(i, len(text)), sets[index[i]]
            skip = 0
        for row in self._open:
            yield row.id, row.text, row.cells, row.labels

    def lines(self) -> Iterator[tuple[int, str]]:
        """(timestamp, raw line) of every buffered row, oldest first (for pattern mining)."""
        for row_id, text, _cells, _labels in self.entries():
            if row_id >= self._open_first():
                row = self.get(row_id)
                yield row.ts_ns, row.raw
                continue
            pos = bisect.bisect_right(self._starts, row_id) - 1
            block = self._sealed[pos]
            i = row_id - block.first_id
            yield block.ts[i], block.raws.get(i, text)

    def newest_lines(self, count: int) -> list[tuple[int, str]]:
        """(timestamp, raw line) of the newest ``count`` rows, oldest first: the tail of
        :meth:`lines`, but only the newest sealed blocks it needs are decompressed (newest
        first), and no :class:`Row` is built for a sealed row.

        Args:
            count: rows wanted (fewer come back when fewer are buffered; none for ``<= 0``).
        """
        if count <= 0:
            return []
        opened = self._open[-count:]
        parts = [[(row.ts_ns, row.raw) for row in opened]]
        left = count - len(opened)
        last = len(self._sealed) - 1
        for n, block in enumerate(reversed(self._sealed)):
            if left <= 0:
                break
            start = max(self._skip if n == last else 0, block.count - left)
            texts = self._texts.get(block.first_id) or block.texts()
            raws, ts = block.raws, block.ts
            parts.append([(ts[i], raws.get(i, texts[i])) for i in range(start, block.count)])
            left -= block.count - start
        return [line for part in reversed(parts) for line in part]

    def _open_first(self) -> int:
        return self._open[0].id if self._open else 1 << 62

    def __iter__(self) -> Iterator[Row]:
        for row_id in self.ids():
            yield self.get(row_id)

    def __getitem__(self, index: int) -> Row:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("row index out of range")
        first = self.first_id
        assert first is not None
        if not self._sealed or index >= self._len - len(self._open):
            return self._open[index - (self._len - len(self._open))]
        # sealed blocks hold consecutive ids within a block, gaps only between blocks
        skip = self._skip
        for block in self._sealed:
            n = block.count - skip
            if index < n:
                return self.get(block.first_id + skip + index)
            index -= n
            skip = 0
        raise IndexError("row index out of range")


class RowView(Sequence[Row]):
    """The rows a filter lets through, as ids (8 B a row); rows are looked up when read."""

    def __init__(self, lookup: Callable[[int], Row], ids: Iterable[int] = ()) -> None:
        self._lookup = lookup
        self.ids = array("q", ids)
        """Row ids in the view, increasing."""

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self._lookup(i) for i in self.ids[index]]
        return self._lookup(self.ids[index])

    def __iter__(self) -> Iterator[Row]:
        lookup = self._lookup
        for row_id in self.ids:
            yield lookup(row_id)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowView):
            return self.ids == other.ids
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def extend_ids(self, ids: Iterable[int]) -> None:
        """Append ids (larger than every id in the view)."""
        self.ids.extend(ids)

    def index_of(self, row_id: int) -> int:
        """Index of the first row whose id is ``row_id`` or more."""
        return bisect.bisect_left(self.ids, row_id)

    def drop_front(self, count: int) -> None:
        """Remove the ``count`` first rows."""
        del self.ids[:count]
