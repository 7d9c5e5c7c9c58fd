"""Import and export FAQ entries as YAML or CSV; every bad entry is reported, not just the first."""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from core.errors import KefuError
from core.spreadsheet import inert, restore
from core.types import LANGS, Lang
from knowledge.types import FaqEntry

CSV_COLUMNS = ("id", "lang", "question", "similar", "answer", "tags")
LIST_SEPARATOR = "|"
Problem = tuple[int | str, str]


class ImportErrors(KefuError):
    status = 422
    code = "knowledge_import_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        lines = "; ".join(f"{where}: {message}" for where, message in problems[:20])
        super().__init__(f"{len(problems)} problem(s) in the FAQ file: {lines}")
        self.problems = problems


def default_key(question: str) -> str:
    """A stable key from the question: an ASCII slug plus a short hash."""
    text = unicodedata.normalize("NFKC", question).strip().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40]
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else f"faq-{digest}"


def parse_file(path: Path | str) -> list[FaqEntry]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        records = _read_yaml(path)
    elif suffix == ".csv":
        records = _read_csv(path)
    else:
        raise ImportErrors([(str(path), f"unsupported file type {suffix!r}: use .yaml, .yml or .csv")])
    return parse_records(records)


def parse_records(records: Sequence[Any]) -> list[FaqEntry]:
    entries: list[FaqEntry] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        entry, errors = _parse_record(record)
        where: int | str = index
        if entry is not None:
            where = entry.key
            if entry.key in seen:
                errors.append(f"duplicate id (also entry {seen[entry.key]})")
            seen.setdefault(entry.key, index)
        problems.extend((where, message) for message in errors)
        if entry is not None and not errors:
            entries.append(entry)
    if problems:
        raise ImportErrors(problems)
    return entries


def _read_yaml(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ImportErrors([(str(path), f"not valid YAML: {exc}")]) from exc
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        data = data["entries"]
    if not isinstance(data, list):
        raise ImportErrors([(str(path), "the YAML file must hold a list of entries")])
    return data


def _read_csv(path: Path) -> list[Any]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("lang", "question", "answer") if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportErrors([(str(path), f"missing CSV column(s): {', '.join(missing)}")])
        return [_csv_record(row) for row in reader]


def _csv_record(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {k: restore((v or "").strip()) for k, v in row.items() if k is not None}
    for column in ("similar", "tags"):
        record[column] = [p.strip() for p in record.get(column, "").split(LIST_SEPARATOR) if p.strip()]
    if not record.get("id"):
        record.pop("id", None)
    enabled = record.pop("enabled", "")
    if enabled:
        record["enabled"] = enabled.lower() not in ("0", "false", "no", "n")
    return record


def _text_list(record: dict[str, Any], name: str, errors: list[str]) -> tuple[str, ...]:
    value = record.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        errors.append(f"{name} must be a list of strings")
        return ()
    return tuple(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def _parse_record(record: Any) -> tuple[FaqEntry | None, list[str]]:
    if not isinstance(record, dict):
        return None, ["an entry must be a mapping with question, answer and lang"]
    errors: list[str] = []
    question = str(record.get("question") or "").strip()
    answer = str(record.get("answer") or "").strip()
    lang = str(record.get("lang") or "").strip()
    if not question:
        errors.append("question is empty")
    if not answer:
        errors.append("answer is empty")
    if lang not in LANGS:
        errors.append(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    enabled = record.get("enabled", True)
    if not isinstance(enabled, bool):
        errors.append("enabled must be true or false")
    similar = _text_list(record, "similar", errors)
    tags = _text_list(record, "tags", errors)
    raw_key = record.get("id")
    key = str(raw_key).strip() if raw_key not in (None, "") else (default_key(question) if question else "")
    if not key:
        return None, errors
    lang_value: Lang = "en" if lang == "en" else "zh"
    entry = FaqEntry(key, lang_value, question, similar, answer, tags, bool(enabled))
    return entry, errors


def to_record(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.key,
        "lang": entry.lang,
        "question": entry.question,
        "similar": list(entry.similar),
        "answer": entry.answer,
        "tags": list(entry.tags),
        "enabled": entry.enabled,
    }


def dump_file(entries: Sequence[FaqEntry], path: Path | str) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        text = yaml.safe_dump([to_record(e) for e in entries], allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
    elif suffix == ".csv":
        _write_csv(entries, path)
    else:
        raise ImportErrors([(str(path), f"unsupported file type {suffix!r}: use .yaml, .yml or .csv")])


def _write_csv(entries: Sequence[FaqEntry], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*CSV_COLUMNS, "enabled"))
        for e in entries:
            writer.writerow(
                (
                    inert(e.key),
                    e.lang,
                    inert(e.question),
                    inert(LIST_SEPARATOR.join(e.similar)),
                    inert(e.answer),
                    inert(LIST_SEPARATOR.join(e.tags)),
                    "true" if e.enabled else "false",
                )
            )
