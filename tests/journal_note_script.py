"""Headless note path used by the crash tests (runs as its own process).

    python journal_note_script.py submit CONFIG TEXT   # journal a note, then deliver forever
    python journal_note_script.py deliver CONFIG       # replay, deliver what is pending, exit

Goes through the same code as the TUI: ``Journal.add_note`` (fsync before any network call), the
``Outbox`` with the real PagerDuty provider, and ``install_signal_handlers`` (SIGHUP/SIGTERM flush
the journal and the draft being typed).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from sre_cockpit.config.model import load_config
from sre_cockpit.core.models import Incident, IncidentStatus, Severity
from sre_cockpit.feeds.journal import Journal, Outbox
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.signals import install_signal_handlers, register_flusher
from sre_cockpit.providers.base import EventSource, IncidentActions

INCIDENT = Incident(id="P1", provider="pd", title="checkout errors",
                    status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL,
                    service="checkout", started_at=datetime(2026, 3, 1, 14, 0, tzinfo=UTC))


async def main(mode: str, config_path: str, text: str | None) -> int:
    runtime = Runtime(load_config(config_path), None)
    journal = Journal.for_config(runtime.config.journal_dir)
    outbox = Outbox(journal, runtime.of(IncidentActions), context=runtime.context_name,  # type: ignore[type-abstract]
                    configured=runtime.providers, events=runtime.of(EventSource),  # type: ignore[type-abstract]
                    base_delay=0.2, max_delay=0.5, timeout=30)
    if mode == "submit":
        install_signal_handlers(journal)
        assert text is not None
        register_flusher(lambda: journal.save_draft(f"draft after: {text}", ["pd:P1"]))
        journal.add_note(text, [INCIDENT], author="tester", context=runtime.context_name)
        print("journaled", flush=True)
        await outbox.run()  # the test kills us while this keeps failing or hangs
        return 1
    left = 1
    for _ in range(50):
        left = await outbox.deliver_once()
        if left == 0:
            break
        await asyncio.sleep(0.2)
    for record in journal.notes():
        print(f"{record.text}\t{record.state}", flush=True)
    await runtime.aclose()
    return 0 if left == 0 else 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
