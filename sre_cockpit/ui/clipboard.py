"""Copying to the operator's clipboard: OSC 52, also through tmux, and safe links.

The one place that writes OSC 52. Textual's ``copy_to_clipboard`` sends the plain sequence;
inside tmux only the DCS passthrough form reaches the outer terminal (with
``allow-passthrough on``), so that is written too.
"""

from __future__ import annotations

import base64
import os
import re

from textual.app import App

MAX_CLIPBOARD_BYTES = 8192
"""Longer texts are not copied (terminals cap OSC 52 payloads; a silent cut would lie)."""

_URL_SAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#@!&'()*+,;=%]")


def osc52(text: str, *, tmux: bool) -> str:
    """OSC 52 "set clipboard" for ``text``; inside tmux wrapped in a DCS passthrough
    (``ESC P tmux; … ESC \\`` with inner ESCs doubled)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    seq = f"\x1b]52;c;{payload}\x07"
    if not tmux:
        return seq
    return "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def copy_text(app: App[object], text: str) -> None:
    """Copy ``text`` with OSC 52 through Textual's driver, and in tmux the wrapped form too."""
    app.copy_to_clipboard(text)
    if os.environ.get("TMUX"):
        driver = app._driver  # no public accessor in Textual 8.2.8
        if driver is not None:
            driver.write(osc52(text, tmux=True))


def safe_link(url: str) -> str | None:
    """``url`` percent-encoded so it can sit inside a link, or None if it is not http(s)."""
    if not re.match(r"(?i)^https?://[^\s]+$", url):
        return None
    return _URL_SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), url)
