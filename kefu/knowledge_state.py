"""Where the published knowledge index lives: ``<dir>/versions/<N>/`` and ``<dir>/CURRENT``."""

from __future__ import annotations

from pathlib import Path


def current_version(knowledge_dir: Path) -> int | None:
    """The published version whose artifact is present, or None."""
    try:
        raw = (knowledge_dir / "CURRENT").read_text().strip()
    except OSError:
        return None
    if not raw.isdigit() or not (knowledge_dir / "versions" / raw).is_dir():
        return None
    return int(raw)
