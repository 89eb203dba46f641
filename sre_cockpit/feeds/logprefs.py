"""What the log pane remembers per context: the LogQL queries used and the columns chosen.

One small JSON file per context under the data dir (``$SRE_COCKPIT_DATA_DIR``, else the config's
``journal_dir``, else the platform data dir — where the notes live), ``logs/<context>.json``,
written whole, atomically and mode 0600 (:func:`~sre_cockpit.core.privatefile.write_private_file`):

- ``history``: the queries Loki accepted, oldest first, each once (using one again moves it to
  the end), at most :data:`HISTORY_LIMIT`; the LogQL editor walks it with up/down.
- ``columns``: query → the structured columns chosen with the field picker, for at most
  :data:`COLUMN_QUERIES` queries (the least recently chosen dropped first).

A missing file is an empty memory; a damaged or unreadable one is too, and :attr:`LogPrefs.problem`
says why (the file is replaced on the next write). Writing never raises: a failure is returned as
one line for the pane to show. Nothing here imports Textual.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sre_cockpit.core.privatefile import write_private_file
from sre_cockpit.feeds.notes_store import default_journal_dir
from sre_cockpit.feeds.notes_store.records import os_reason

HISTORY_LIMIT = 50
"""Queries kept in a context's history."""
COLUMN_QUERIES = 100
"""Queries whose chosen columns are kept."""
MAX_QUERY_CHARS = 4096
"""Longer queries are not remembered (the editor still runs them)."""
MAX_COLUMNS = 64
MAX_FILE_BYTES = 1 << 20
"""A larger file is not read (it is not one the cockpit wrote)."""

__all__ = ["COLUMN_QUERIES", "HISTORY_LIMIT", "LogPrefs", "prefs_path"]


def prefs_path(data_dir: Path, context: str) -> Path:
    """The file of ``context`` (its name made safe for a file name, with a short hash so that
    two names made alike never share a file)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", context)[:64].lstrip(".") or "context"
    digest = hashlib.sha256(context.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return data_dir / "logs" / f"{safe}-{digest}.json"


def _strings(value: Any, limit: int) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and 0 < len(v) <= MAX_QUERY_CHARS][-limit:]


class LogPrefs:
    """The query history and the chosen columns of one context (loaded on first use)."""

    def __init__(self, path: Path | None) -> None:
        """Args:
            path: the file (None: remember for this session only, nothing written).
        """
        self.path = path
        self.problem: str | None = None
        """Why the file could not be read or written (None: fine)."""
        self._history: list[str] | None = None
        self._columns: dict[str, tuple[str, ...]] = {}

    @classmethod
    def for_context(cls, journal_dir: str | None, context: str) -> LogPrefs:
        """The memory of ``context`` in the data dir (``journal_dir`` from the config)."""
        return cls(prefs_path(default_journal_dir(journal_dir), context))

    # ------------------------------------------------------------------------ reading

    def _load(self) -> list[str]:
        if self._history is not None:
            return self._history
        self._history = []
        if self.path is None:
            return self._history
        try:
            with self.path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return self._history
        except OSError as exc:
            self.problem = f"cannot read {self.path.name}: {os_reason(exc)}"
            return self._history
        try:
            if len(data) > MAX_FILE_BYTES:
                raise ValueError("larger than 1 MiB")
            loaded = json.loads(data.decode("utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            self.problem = f"{self.path.name} is damaged ({str(exc)[:80]}): starting afresh"
            return self._history
        self._history = _strings(loaded.get("history"), HISTORY_LIMIT)
        columns = loaded.get("columns")
        if isinstance(columns, dict):
            for query, chosen in list(columns.items())[-COLUMN_QUERIES:]:
                names = _strings(chosen, MAX_COLUMNS)
                if isinstance(query, str) and names:
                    self._columns[query] = tuple(names)
        return self._history

    @property
    def history(self) -> list[str]:
        """The queries used, oldest first (a copy)."""
        return list(self._load())

    def columns(self, query: str) -> tuple[str, ...] | None:
        """The columns chosen for ``query`` (None: never chosen)."""
        self._load()
        return self._columns.get(query)

    # ------------------------------------------------------------------------ writing

    def remember_query(self, query: str) -> str | None:
        """Add ``query`` as the newest entry (moved there if it was already in).

        Returns:
            Why it could not be saved (one line), else None.
        """
        query = query.strip()
        history = self._load()
        if not query or len(query) > MAX_QUERY_CHARS:
            return None
        if history and history[-1] == query:
            return None
        if query in history:
            history.remove(query)
        history.append(query)
        del history[:-HISTORY_LIMIT]
        return self._save()

    def set_columns(self, query: str, columns: Sequence[str]) -> str | None:
        """Remember ``columns`` for ``query`` (the newest choice; the oldest query dropped
        beyond :data:`COLUMN_QUERIES`).

        Returns:
            Why it could not be saved (one line), else None.
        """
        self._load()
        self._columns.pop(query, None)
        self._columns[query] = tuple(columns)[:MAX_COLUMNS]
        while len(self._columns) > COLUMN_QUERIES:
            del self._columns[next(iter(self._columns))]
        return self._save()

    def _save(self) -> str | None:
        if self.path is None:
            return None
        data = {"version": 1, "history": self._load(),
                "columns": {q: list(c) for q, c in self._columns.items()}}
        try:
            write_private_file(self.path, json.dumps(data, ensure_ascii=False, indent=1),
                               make_parents=True)
        except OSError as exc:
            self.problem = f"cannot save {self.path.name}: {os_reason(exc)}"
            return self.problem
        self.problem = None
        return None
