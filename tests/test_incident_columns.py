"""Incidents table columns by importance (issue 12, item 10): the width allocation over 60, 80,
120 and 200 columns with long and short ids, the unique id prefix, and the rows as drawn."""

from __future__ import annotations

from dataclasses import replace

import pytest
from incidents_helpers import FROZEN, incident

from sre_cockpit.ui.incidents.columns import (
    FIXED,
    ID_MIN,
    MARKER,
    TITLE_FIRST,
    column_widths,
    measure,
    short_id,
    unique_prefix,
)
from sre_cockpit.ui.incidents.table import cell_texts, detail_text, row_cells

FINGERPRINTS = ["921949919c3e5a1b", "ecf7a37aa0b1c2d3", "95479bc33f00d1e2", "921949f00c3e5a1b"]
PD_IDS = ["PWSTN9D", "P30AVQB", "P6V5C81"]
TITLES = ["checkout is answering 3.8% of requests with 5xx (threshold 1%)",
          "Payments p99 latency above 1.2s", "TLS certificate for gateway expires in 6 days"]
CELLS = {"title": TITLES, "service": ["checkout", "payments", "gateway"],
         "assignee": ["Dana Whitfield", "—", "Earline Greenholt, Tim Wright"],
         "source": ["alerts", "pd"]}
SIZES = (60, 80, 120, 200)


def test_the_unique_prefix_tells_the_ids_apart_and_is_never_shorter_than_the_minimum() -> None:
    assert unique_prefix(PD_IDS) == ID_MIN  # told apart by 2 characters: the minimum still
    assert unique_prefix(FINGERPRINTS) == 7  # 921949 9… and 921949 f… share six
    assert unique_prefix(["abcdefghij01", "abcdefghij02"]) == 12
    assert unique_prefix(["same", "same"]) == ID_MIN  # one id twice (two providers): nothing
    assert unique_prefix([]) == ID_MIN
    shown = {short_id(i, unique_prefix(FINGERPRINTS)) for i in FINGERPRINTS}
    assert len(shown) == len(FINGERPRINTS) and "921949f…" in shown


def test_an_id_is_cut_only_when_that_saves_a_cell() -> None:
    assert short_id("P30AVQB", 6) == "P30AVQB"  # 7 characters: "P30AVQ…" would save nothing
    assert short_id("921949919c3e5a1b", 6) == "921949…"
    assert short_id("INC1", 6) == "INC1"


@pytest.mark.parametrize("width", SIZES)
@pytest.mark.parametrize("ids", [FINGERPRINTS, PD_IDS, FINGERPRINTS + PD_IDS],
                         ids=["long", "short", "mixed"])
def test_the_title_gets_the_room_before_the_optional_columns(width: int,
                                                             ids: list[str]) -> None:
    need = measure(ids, CELLS)
    widths = column_widths(width, need)
    title = widths["title"]
    assert widths["id"] == MARKER + need.id_chars + 1 <= MARKER + 8 + 1  # never 16 + marker
    assert all(widths[k] == v for k, v in FIXED.items())  # how bad and how old: always whole
    assert title >= widths["id"]  # the title never again narrower than the id
    assert sum(widths.values()) <= width - 2  # the scrollbar's room; nothing drawn past it
    optional = [widths["service"], widths["assignee"], widths["source"]]
    if width >= 60:
        assert title >= min(TITLE_FIRST, width - 2 - sum(FIXED.values()) - widths["id"])
    for name in ("service", "assignee", "source"):  # shown: never wider than the title
        assert widths[name] == 0 or widths[name] <= title
    if any(optional):
        assert title >= TITLE_FIRST  # an optional column appears only once the title has 24
    # they drop least important first: source, then assignee, then service
    shown = [w > 0 for w in optional]
    assert shown == sorted(shown, reverse=True)


def test_each_size_in_detail() -> None:
    need = measure(FINGERPRINTS + PD_IDS, CELLS)
    at = {w: column_widths(w, need) for w in SIZES}
    assert at[60]["title"] >= 20 and not any(at[60][k] for k in ("service", "assignee", "source"))
    assert at[80]["title"] >= 24 and at[80]["service"] and not at[80]["source"]
    assert at[120]["title"] >= 48 and all(at[120][k] for k in ("service", "assignee", "source"))
    # 200 columns: every cell whole (the longest title, service, assignee and source fit)
    longest = need.natural
    assert all(at[200][k] >= longest[k] + 1 for k in ("title", "service", "assignee", "source"))
    # before: at 80 the id took 12 and the title 14 (README capture: 921949919… Checkout…)
    assert at[80]["id"] == MARKER + len("921949f…") + 1


def test_rows_drawn_with_the_prefix_and_the_detail_line_has_the_whole_id() -> None:
    inc = replace(incident(1, title=TITLES[0], minutes_ago=24), id=FINGERPRINTS[0])
    need = measure([inc.id, FINGERPRINTS[3]], {"title": [inc.title]})
    widths = column_widths(80, need)
    cells = cell_texts(row_cells(inc, widths=widths, now=FROZEN, colour=lambda name: "red",
                                 focused=None, selected=(), stale=(), id_prefix=need.id_prefix))
    assert cells["id"] == "  9219499…"  # the marker's room, then the prefix
    assert cells["title"].startswith("checkout is answering 3.")  # 24 + of 80
    assert cells["source"] == ""  # dropped at 80 columns
    assert detail_text(inc, 0, need.id_prefix).plain == TITLES[0] + "  id " + FINGERPRINTS[0]
    short = detail_text(replace(inc, id="P30AVQB"), 0, 6).plain
    assert "P30AVQB" not in short  # an id shown whole is not repeated


def test_a_stale_source_is_marked_on_the_title_when_its_column_is_dropped() -> None:
    inc = incident(1, title="Disk 91% on db-2")
    need = measure([inc.id], {"title": ["⚠ " + inc.title]})  # as RowLayout measures it
    widths = column_widths(70, need)
    assert widths["source"] == 0
    cells = cell_texts(row_cells(inc, widths=widths, now=FROZEN, colour=lambda name: "red",
                                 focused=None, selected=(), stale={inc.provider}))
    assert cells["title"].startswith("⚠ Disk 91% on db-2")
