"""The log pane's buffer (core/logring.py): rows sealed into compressed blocks read back whole."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from sre_cockpit.core.loglines import ERROR, UNKNOWN, Row, make_row, row_level
from sre_cockpit.core.logring import BLOCK, ROW_CACHE, RowStore, RowView, chunks, entries_of
from sre_cockpit.core.models import LogLine

APP = MappingProxyType({"app": "checkout"})
DB = MappingProxyType({"app": "db"})


def line(i: int) -> LogLine:
    """A mix of the shapes a sealed block stores apart: escapes, tabs, wide text, metadata."""
    text = f"seq={i} level=info ok"
    meta: MappingProxyType[str, str] = MappingProxyType({})
    if i % 7 == 0:
        text = f"seq={i} \x1b[31mred\x1b[0m"
    elif i % 11 == 0:
        text = f"seq={i}\tdb\ttab"
    elif i % 13 == 0:
        text = f"seq={i} 日本語 level=error"
        meta = MappingProxyType({"trace_id": f"t{i}"})
    return LogLine(1_700_000_000_000_000_000 + i, text, APP if i % 2 else DB, meta)


def fields(row: Row) -> tuple[object, ...]:
    return (row.id, row.ts_ns, row.raw, dict(row.labels), dict(row.metadata), row.text,
            row.marks, row.cells)


def test_sealed_rows_read_back_exactly_as_made() -> None:
    store = RowStore()
    lines = [line(i) for i in range(3 * BLOCK + 5)]
    _rows, evicted = store.add_lines(lines, 4096, 10_000)
    assert evicted == 0 and len(store) == len(lines)
    expected = [make_row(i, ln, 4096) for i, ln in enumerate(lines)]
    assert [fields(r) for r in store] == [fields(r) for r in expected]
    assert [fields(store[i]) for i in (0, BLOCK - 1, BLOCK, -1)] == \
        [fields(expected[i]) for i in (0, BLOCK - 1, BLOCK, -1)]
    assert list(store.entries()) == list(entries_of(expected))
    assert list(store.lines()) == [(ln.ts_ns, ln.line) for ln in lines]
    assert store[BLOCK + 3].labels is lines[BLOCK + 3].labels  # label sets stay shared


def test_eviction_keeps_the_newest_rows_in_order() -> None:
    store = RowStore()
    _rows, evicted = store.add_lines([line(i) for i in range(2 * BLOCK)], 4096, BLOCK + 10)
    assert evicted == BLOCK - 10 and len(store) == BLOCK + 10
    assert store.first_id == BLOCK - 10 and store[0].text.startswith(f"seq={BLOCK - 10}")
    with pytest.raises(KeyError):
        store.get(BLOCK - 11)
    _rows, evicted = store.add_lines([line(i) for i in range(2 * BLOCK, 2 * BLOCK + 30)],
                                     4096, BLOCK + 10)
    assert evicted == 30 and [r.id for r in store] == list(range(BLOCK + 20, 2 * BLOCK + 30))


def test_a_batch_larger_than_the_buffer_skips_ids_and_keeps_its_newest_lines() -> None:
    store = RowStore()
    store.add_lines([line(i) for i in range(10)], 4096, 100)
    _rows, evicted = store.add_lines([line(i) for i in range(10, 260)], 4096, 100)
    assert evicted == 150 + 10 and len(store) == 100
    assert [r.ts_ns for r in store] == [line(i).ts_ns for i in range(160, 260)]
    assert store.next_id == 260


def test_ids_with_a_gap_are_sealed_in_separate_blocks() -> None:
    store = RowStore()
    rows = [make_row(i, line(i), 4096) for i in range(BLOCK - 3)]
    rows += [make_row(i + 1000, line(i), 4096) for i in range(BLOCK)]
    store.extend(rows)
    assert [r.id for r in store] == [r.id for r in rows]
    assert store.get(1000 + 5).ts_ns == line(5).ts_ns
    with pytest.raises(KeyError):
        store.get(BLOCK)  # inside the gap


def test_a_detected_level_survives_the_row_cache() -> None:
    store = RowStore()
    store.add_lines([line(i) for i in range(ROW_CACHE + 3 * BLOCK)], 4096, 100_000)
    row = store.get(13)
    assert row.level == UNKNOWN and row_level(row) == ERROR
    for i in range(BLOCK, BLOCK + ROW_CACHE + 1):  # push row 13 out of the cache
        store.get(i)
    again = store.get(13)
    assert again is not row and again.level == ERROR


def test_clear_empties_and_ids_keep_increasing() -> None:
    store = RowStore()
    store.add_lines([line(i) for i in range(BLOCK + 1)], 4096, 10_000)
    store.clear()
    assert len(store) == 0 and not store and store.first_id is None and list(store) == []
    rows, _ = store.add_lines([line(0)], 4096, 10_000)
    assert rows[0].id == BLOCK + 1 and store[0] is rows[0]


def test_row_view_reads_rows_by_id() -> None:
    store = RowStore()
    store.add_lines([line(i) for i in range(2 * BLOCK)], 4096, 10_000)
    view = RowView(store.get, range(0, 2 * BLOCK, 3))
    assert len(view) == len(range(0, 2 * BLOCK, 3)) and view[1].id == 3 and view[-1].id == 1023
    assert [r.id for r in view[:3]] == [0, 3, 6]
    assert view.index_of(4) == 2 and view.index_of(3) == 1
    view.drop_front(2)
    assert view[0].id == 6
    assert RowView(store.get) == [] and view != []
    assert view == [store.get(i) for i in range(6, 2 * BLOCK, 3)]


def test_chunks_split_without_losing_entries() -> None:
    entries = list(entries_of(make_row(i, line(i), 4096) for i in range(10)))
    assert [len(c) for c in chunks(entries, 4)] == [4, 4, 2]
    assert [e for c in chunks(entries, 4) for e in c] == entries


NEWEST_COUNTS = (0, 1, 9, 10, 11, BLOCK - 1, BLOCK, BLOCK + 9, BLOCK + 10, BLOCK + 11,
                 2 * BLOCK + 10, 3 * BLOCK, 10 * BLOCK)


def test_newest_lines_are_the_tail_of_lines_across_block_boundaries() -> None:
    store = RowStore()
    lines = [line(i) for i in range(3 * BLOCK + 10)]  # three sealed blocks and 10 open rows
    store.add_lines(lines, 4096, 10_000)
    expected = [(ln.ts_ns, ln.line) for ln in lines]
    assert expected[7][1] != make_row(7, lines[7], 4096).text  # a raw kept apart from its text
    for count in NEWEST_COUNTS:
        assert store.newest_lines(count) == (expected[-count:] if count else []), count
    assert store.newest_lines(-1) == [] and RowStore().newest_lines(5) == []


def test_newest_lines_after_wrap_around_and_eviction() -> None:
    store = RowStore()
    keep = 2 * BLOCK + 100  # bounded: the oldest sealed block is partly evicted
    lines = [line(i) for i in range(5 * BLOCK + 37)]
    for start in range(0, len(lines), 300):  # batches, as the stream delivers them
        _rows, _evicted = store.add_lines(lines[start:start + 300], 4096, keep)
    assert len(store) == keep and store.first_id == len(lines) - keep
    expected = [(ln.ts_ns, ln.line) for ln in lines[-keep:]]
    assert list(store.lines()) == expected
    for count in (*NEWEST_COUNTS, keep - 1, keep, keep + 1):
        assert store.newest_lines(count) == (expected[-count:] if count else []), count
    store.evict(keep - 5)  # only the open block's newest five rows are left
    assert store.newest_lines(100) == expected[-5:]


def test_newest_lines_over_an_id_gap() -> None:
    store = RowStore()
    store.add_lines([line(i) for i in range(BLOCK + 3)], 4096, 10_000)
    store.next_id += 50  # lines skipped: the next rows start a new block
    store.add_lines([line(i) for i in range(BLOCK + 53, 2 * BLOCK + 60)], 4096, 10_000)
    expected = list(store.lines())
    assert len(expected) == 2 * BLOCK + 10
    for count in NEWEST_COUNTS:
        assert store.newest_lines(count) == (expected[-count:] if count else []), count
