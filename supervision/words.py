"""Word lists of the quality inspection and the pure check of one reply against them.

Chinese words match as substrings (Chinese has no spaces between words); English words match
whole words, case-insensitively ("hell" is not found in "hello").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, ValidationFailed
from supervision.tables import QualityWord

KINDS = ("forbidden", "sensitive", "greeting", "closing")
LANGS = ("zh", "en")
FLAGGED = ("forbidden", "sensitive")  # a reply containing one of these is a hit


@dataclass(frozen=True)
class WordLists:
    """kind -> lang -> words."""

    words: dict[str, dict[str, tuple[str, ...]]]

    def of(self, kind: str, lang: str) -> tuple[str, ...]:
        return self.words.get(kind, {}).get(lang, ())

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str]]) -> WordLists:
        out: dict[str, dict[str, list[str]]] = {}
        for kind, lang, word in rows:
            out.setdefault(kind, {}).setdefault(lang, []).append(word)
        return cls({k: {lang: tuple(ws) for lang, ws in v.items()} for k, v in out.items()})


def contains(text: str, word: str, lang: str) -> bool:
    if lang == "en":
        return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, re.IGNORECASE) is not None
    return word.lower() in text.lower()


def found(text: str, words: Sequence[str], lang: str) -> list[str]:
    return [w for w in words if contains(text, w, lang)]


def flagged_words(text: str, lists: WordLists) -> list[tuple[str, str]]:
    """(kind, word) for every forbidden or sensitive word in ``text``, in either language
    (an agent may slip into the other language)."""
    hits: list[tuple[str, str]] = []
    for kind in FLAGGED:
        for lang in LANGS:
            hits.extend((kind, w) for w in found(text, lists.of(kind, lang), lang) if (kind, w) not in hits)
    return hits


def check_word(kind: str, lang: str, word: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", code="invalid_word_kind")
    if lang not in LANGS:
        raise ValidationFailed("lang must be zh or en", code="invalid_lang")
    cleaned = word.strip()
    if not cleaned or len(cleaned) > 128:
        raise ValidationFailed("a word has 1-128 characters", code="invalid_word")
    return cleaned


async def add_word(session: AsyncSession, kind: str, word: str, lang: str = "zh") -> QualityWord:
    cleaned = check_word(kind, lang, word)
    exists = await session.scalar(
        select(QualityWord).where(
            QualityWord.kind == kind, QualityWord.lang == lang, QualityWord.word == cleaned
        )
    )
    if exists is not None:
        raise Conflict(f"{cleaned!r} is already a {kind} word", code="word_exists")
    row = QualityWord(kind=kind, lang=lang, word=cleaned)
    session.add(row)
    await session.flush()
    return row


async def remove_word(session: AsyncSession, word_id: int) -> None:
    result = await session.execute(delete(QualityWord).where(QualityWord.id == word_id))
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"no word {word_id}", code="word_not_found")


async def all_words(session: AsyncSession) -> list[QualityWord]:
    rows = await session.scalars(
        select(QualityWord).order_by(QualityWord.kind, QualityWord.lang, QualityWord.word)
    )
    return list(rows)


async def load_lists(session: AsyncSession) -> WordLists:
    rows = await session.execute(select(QualityWord.kind, QualityWord.lang, QualityWord.word))
    return WordLists.build((k, lang, w) for k, lang, w in rows.all())
