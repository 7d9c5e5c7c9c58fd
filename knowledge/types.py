"""Typed values of the FAQ knowledge base and of a search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.types import Lang

Decision = Literal["answer", "clarify", "decline"]


@dataclass(frozen=True)
class FaqEntry:
    key: str
    lang: Lang
    question: str
    similar: tuple[str, ...]
    answer: str
    tags: tuple[str, ...] = ()
    enabled: bool = True

    def texts(self) -> tuple[str, ...]:
        """The standard question first, then the similar questions."""
        return (self.question, *self.similar)


@dataclass(frozen=True)
class Candidate:
    key: str
    question: str
    answer: str
    score: float  # calibrated 0..1: the estimated chance that this entry answers the query
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    """``answer``: candidates[0] answers; ``clarify``: ask the customer to pick one of the top two;
    ``decline``: hand off, do not guess."""

    decision: Decision
    candidates: tuple[Candidate, ...]
    threshold: float
