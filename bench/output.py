"""Where every benchmark leaves its figures: one JSON file, by default under bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def write_results(data: Any, path: Path | str) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` (a bare file name goes under
    bench/results/), print where, and return the path."""
    target = Path(path)
    if not target.is_absolute() and target.parent == Path("."):
        target = RESULTS / target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=list) + "\n", encoding="utf-8")
    print(f"\nwritten to {_shown(target)}")
    return target


def _shown(path: Path) -> str:
    root = RESULTS.parent.parent
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
