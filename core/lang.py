"""Language detection good enough to choose zh or en for replies."""

from __future__ import annotations

from core.types import Lang


def detect_lang(text: str, default: Lang = "zh") -> Lang:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if cjk == 0 and latin == 0:
        return default
    return "zh" if cjk * 3 >= latin else "en"


def lang_of(stored: str) -> Lang:
    """A stored language column read back as a ``Lang`` (anything but "en" is Chinese)."""
    return "en" if stored == "en" else "zh"
