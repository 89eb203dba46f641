"""WCAG 2.x contrast between two sRGB colours (pure maths, no Textual).

The ratio is ``(L1 + 0.05) / (L2 + 0.05)`` of the relative luminances of the lighter and the
darker colour: 1 for equal colours, 21 for black on white. WCAG asks 4.5:1 for body text (AA)
and 7:1 for the enhanced level (AAA), which the ``high-contrast`` theme keeps.
"""

from __future__ import annotations

AA = 4.5
"""Minimum contrast of text against its background in every cockpit theme (WCAG AA)."""
AAA = 7.0
"""Minimum in the ``high-contrast`` theme (WCAG AAA)."""

RGB = tuple[int, int, int]


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour (0 black … 1 white)."""
    red, green, blue = (_linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: RGB, second: RGB) -> float:
    """WCAG contrast ratio of two colours, 1.0 … 21.0 (order does not matter)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def hex_rgb(value: str) -> RGB:
    """``#rrggbb`` (or ``rrggbb``) as an RGB triple.

    Raises:
        ValueError: not six hexadecimal digits.
    """
    text = value.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not an #rrggbb colour: {value!r}")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
