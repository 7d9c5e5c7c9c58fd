"""Benchmarks write their figures through one function."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import output


def test_a_bare_name_lands_under_bench_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "RESULTS", tmp_path / "results")
    written = output.write_results({"中文": "保持原样", "seen": {3}}, "x.json")
    assert written == tmp_path / "results" / "x.json"
    text = written.read_text(encoding="utf-8")
    assert "保持原样" in text and text.endswith("\n")
    assert json.loads(text) == {"中文": "保持原样", "seen": [3]}


def test_a_path_is_written_where_it_points(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "y.json"
    assert output.write_results([1, 2], target) == target
    assert json.loads(target.read_text(encoding="utf-8")) == [1, 2]
