"""Text normalisation applied before every channel: width, case, script, punctuation, chat spellings."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import opencc

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_converter_lock = threading.Lock()


def parse_synonyms(text: str) -> dict[str, str]:
    rules: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=>" not in line:
            continue
        variant, canonical = (part.strip() for part in line.split("=>", 1))
        if variant:
            rules[variant.lower()] = canonical.lower()
    return rules


@cache
def default_synonyms() -> Mapping[str, str]:
    return parse_synonyms(SYNONYMS_FILE.read_text(encoding="utf-8"))


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    with _converter_lock:  # the pure-Python converter keeps per-call state
        return str(_t2s().convert(text))


def is_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def apply_synonyms(text: str, rules: Mapping[str, str]) -> str:
    """Latin variants match whole Latin words (also next to Chinese characters);
    Chinese variants match anywhere, longest first."""
    out = _latin_pattern(tuple(sorted(rules.items()))).sub(lambda m: rules[m.group(0)], text)
    for variant in sorted((k for k in rules if not _LATIN_WORD.fullmatch(k)), key=len, reverse=True):
        if variant in out:
            out = out.replace(variant, rules[variant])
    return out


@cache
def _latin_pattern(items: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    words = sorted((k for k, _ in items if _LATIN_WORD.fullmatch(k)), key=len, reverse=True)
    if not words:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![a-z0-9])")


def normalise(text: str, synonyms: Mapping[str, str] | None = None) -> str:
    """NFKC (full/half width), lower case, traditional->simplified, punctuation to spaces, synonyms."""
    out = unicodedata.normalize("NFKC", text).lower()
    if is_chinese(out):
        out = to_simplified(out)
    out = _PUNCT.sub(" ", out).strip()
    return apply_synonyms(out, default_synonyms() if synonyms is None else synonyms)
