import csv
from pathlib import Path

import pytest

from knowledge.importer import ImportErrors, default_key, dump_file, parse_file
from knowledge.types import FaqEntry
from tests.knowledge.kb import ENTRIES

GOOD_YAML = """
- id: a-1
  lang: zh
  question: 退款多久到账？
  similar: [退款几天到, 钱什么时候退回来]
  answer: 1-3个工作日。
  tags: [退款]
- lang: en
  question: How do I reset my password?
  similar: [forgot password]
  answer: Use the reset link.
"""


def test_yaml_entries_are_parsed_with_default_keys(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    first, second = parse_file(path)
    assert (
        first.key == "a-1" and first.similar == ("退款几天到", "钱什么时候退回来") and first.tags == ("退款",)
    )
    assert second.key == default_key("How do I reset my password?")
    assert second.key.startswith("how-do-i-reset-my-password-")
    assert second.enabled


def test_default_key_is_stable_and_handles_chinese() -> None:
    assert default_key("退款多久到账？") == default_key("退款多久到账？")
    assert default_key("退款多久到账？") != default_key("如何开发票？")
    assert default_key("退款多久到账？").startswith("faq-")


def test_every_bad_entry_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        """
- {id: x1, lang: zh, question: 问题一, answer: 答案}
- {id: x2, lang: fr, question: question, answer: answer}
- {id: x3, lang: en, question: "", answer: ""}
- {id: x1, lang: zh, question: 问题二, answer: 答案}
- just a string
""",
        encoding="utf-8",
    )
    with pytest.raises(ImportErrors) as caught:
        parse_file(path)
    problems = caught.value.problems
    where = [w for w, _ in problems]
    assert "x2" in where and "x3" in where and "x1" in where and 4 in where
    assert any("lang" in m for w, m in problems if w == "x2")
    assert {m for w, m in problems if w == "x3"} >= {"question is empty", "answer is empty"}
    assert any("duplicate" in m for w, m in problems if w == "x1")


def test_csv_lists_are_split_on_bars(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,lang,question,similar,answer,tags\nq1,zh,怎么开发票,开发票|发票申请,在订单页申请,发票|订单\n",
        encoding="utf-8",
    )
    (entry,) = parse_file(path)
    assert entry.similar == ("开发票", "发票申请") and entry.tags == ("发票", "订单")


def test_csv_missing_column_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("id,question\nq1,hello\n", encoding="utf-8")
    with pytest.raises(ImportErrors, match="lang"):
        parse_file(path)


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_dump_then_parse_round_trips(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"faq{suffix}"
    dump_file(ENTRIES, path)
    assert parse_file(path) == ENTRIES


def test_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ImportErrors):
        parse_file(tmp_path / "faq.txt")


def test_csv_export_runs_no_formula_and_imports_back_unchanged(tmp_path: Path) -> None:
    hostile = FaqEntry(
        "=cmd-key",
        "zh",
        '=HYPERLINK("http://x.example/","点我")',
        ("+1+1", "普通说法"),
        "@SUM(A1)",
        ("-tag",),
        True,
    )
    path = tmp_path / "faq.csv"
    dump_file([hostile], path)
    with path.open(encoding="utf-8", newline="") as handle:
        (header, row) = list(csv.reader(handle))
    cells = dict(zip(header, row, strict=True))
    for column in ("id", "question", "similar", "answer", "tags"):
        assert cells[column].startswith("'"), (column, cells[column])
    assert parse_file(path) == [hostile]
