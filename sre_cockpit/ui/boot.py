"""What the first frame shows, known before Textual, the providers or even the schema load.

The CLI reads it from the raw YAML (``sre_cockpit.cli.tui.peek``) and draws its header at once;
the app starts from it and builds the feeds after its own first frame. Nothing here imports
Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sre_cockpit.core.themenames import DEFAULT_THEME

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What the first frame shows, known before the providers (or even the config) are built."""

    context: str
    danger: bool
    read_only: bool
    providers: tuple[str, ...]
    theme: str = DEFAULT_THEME
    keys: Mapping[str, str] = field(default_factory=dict)
    low_bandwidth: bool = False

    @classmethod
    def from_cockpit(cls, cockpit: Cockpit, *, low_bandwidth: bool) -> BootInfo:
        """Everything from a built cockpit."""
        config = cockpit.runtime.config
        return cls(context=cockpit.context, danger=cockpit.production,
                   read_only=cockpit.read_only, providers=cockpit.providers,
                   theme=config.ui.theme or DEFAULT_THEME, keys=dict(config.keys),
                   low_bandwidth=low_bandwidth or config.ui.low_bandwidth)
