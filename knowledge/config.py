"""Index settings: a frozen dataclass; the defaults are the best setting measured (docs/answer-quality.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# One product setting for every language: val-tuned thresholds were zh_shop 0.25 and clinc150 0.07;
# 0.25 keeps both sets within 5 % wrong and 80 % OOS declined (docs/answer-quality.md)
DEFAULT_THRESHOLD = 0.25


@dataclass(frozen=True)
class IndexConfig:
    # Encoders by name (use, e5, minilm, st:<path>); None picks by the KB's languages:
    # USE always, e5 when there are Chinese entries, MiniLM when there are English ones.
    encoders: tuple[str, ...] | None = None
    # An extra sentence-transformers model folder (a production install may point at a bigger one).
    st_model_path: str | None = None
    # Channels left out (for experiments): "lexical", "text_clf", "vector_clf", "dense".
    disabled: tuple[str, ...] = ()
    # Match the query against each entry's answer text as well (lexical and dense).
    answer_channel: bool = True
    # The calibrated score an answer needs; None uses the one recorded in the artifact.
    threshold: float | None = None
    clarify_margin: float = 0.15
    clarify_floor: float = 0.6
    candidates: int = 8
    cv_folds: int = 3
    cv_max_queries: int = 3000
    cv_max_train_per_entry: int = 30
    cv_entry_out: bool = True
    generic_negatives: bool = True
    seed: int = 0

    @classmethod
    def for_model(cls, st_model_path: object | None) -> IndexConfig:
        """How a version is built for an install's ``KEFU_KNOWLEDGE_MODEL`` (None: the bundled encoders);
        loading reads the encoders from the version itself."""
        return cls(st_model_path=None if st_model_path is None else str(st_model_path))

    def encoder_names(self, langs: Sequence[str]) -> tuple[str, ...]:
        if "dense" in self.disabled and "vector_clf" in self.disabled:
            return ()
        names = list(self.encoders) if self.encoders is not None else self._auto(langs)
        if self.st_model_path:
            names.append(f"st:{self.st_model_path}")
        return tuple(dict.fromkeys(names))

    @staticmethod
    def _auto(langs: Sequence[str]) -> list[str]:
        names = ["use"]
        if "zh" in langs:
            names.append("e5")
        if "en" in langs:
            names.append("minilm")
        return names
