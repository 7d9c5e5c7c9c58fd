"""The package layering of docs/architecture.md, checked against the code's own imports.

Imports point down only: each package may import the packages below it (the closure of the
arrows here) and nothing else; no package cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYER_OF = {
    "core": "core",
    "store": "store",
    "connectors": "connectors",
    "knowledge": "knowledge",
    "actions": "actions",
    "conversations": "conversations",
    "handoff": "handoff",
    "tickets": "handoff",
    "supervision": "supervision",
    "service": "service",
}
ARROWS = {
    "store": {"core"},
    "connectors": {"core"},
    "knowledge": {"store"},
    "actions": {"knowledge", "core"},
    "conversations": {"store", "handoff", "knowledge"},
    "handoff": {"store", "knowledge"},
    "supervision": {"conversations", "handoff", "store"},
    "service": {"connectors", "conversations", "handoff", "knowledge", "actions", "supervision"},
}


def reachable(layer: str) -> set[str]:
    seen: set[str] = set()
    todo = list(ARROWS.get(layer, ()))
    while todo:
        nxt = todo.pop()
        if nxt not in seen:
            seen.add(nxt)
            todo.extend(ARROWS.get(nxt, ()))
    return seen


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def edges() -> list[tuple[str, str, str]]:
    out = []
    for package in LAYER_OF:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = LAYER_OF[package]
            for target_pkg in imports_of(path):
                target = LAYER_OF.get(target_pkg)
                if target is not None and target != source:
                    out.append((source, target, str(path.relative_to(ROOT))))
    return out


def test_every_import_points_down_the_layers() -> None:
    wrong = sorted(
        f"{file}: {source} -> {target}" for source, target, file in edges() if target not in reachable(source)
    )
    assert wrong == []


def test_the_arrows_have_no_cycle() -> None:
    for layer in ARROWS:
        assert layer not in reachable(layer), layer


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("core", "store"),
        ("core", "connectors"),
        ("connectors", "conversations"),
        ("connectors", "knowledge"),
        ("knowledge", "handoff"),
        ("knowledge", "conversations"),
        ("actions", "handoff"),
        ("handoff", "conversations"),
        ("handoff", "service"),
        ("knowledge", "service"),
        ("conversations", "service"),
    ],
)
def test_the_forbidden_arrows_stay_forbidden(source: str, target: str) -> None:
    assert target not in reachable(source)
