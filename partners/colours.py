"""A partner's accent colour and the contrast it must keep (WCAG 2.1, as DKFDS requires).

The accent colours buttons (white text on the colour) and links (the colour on white), so the one
ratio between the colour and white must reach 4.5:1, the level for normal text. Pure: no Django.
"""

from __future__ import annotations

import re

MIN_CONTRAST = 4.5
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def parse_hex(value: str) -> tuple[int, int, int] | None:
    """``#rrggbb`` as three 0–255 channels, or None when it is not written that way."""
    found = _HEX.match(value.strip())
    if found is None:
        return None
    digits = found.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_with_white(value: str) -> float | None:
    rgb = parse_hex(value)
    return None if rgb is None else contrast_ratio(rgb, (255, 255, 255))
