"""Build a versioned, self-contained index artifact and search it.

Artifact directory: manifest.json, entries.json, channels.joblib (lexical stats and the two
classifiers), dense-<n>.faiss (one flat inner-product index per encoder) and doc_labels.npy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np

from core.errors import KefuError
from core.types import Lang
from knowledge.calibrate import CvPlan, cross_validate, fit_calibrator, generic_questions
from knowledge.channels import Channels, Texts, without
from knowledge.config import DEFAULT_THRESHOLD, IndexConfig
from knowledge.dense import FaissDense
from knowledge.encoders import get_encoder
from knowledge.features import candidates, feature_names
from knowledge.fusion import Calibrator, DecisionRule
from knowledge.lexical import tokens
from knowledge.normalise import normalise
from knowledge.saved_vectors import SavedVectors
from knowledge.types import Candidate, FaqEntry, SearchResult

__all__ = ["IndexConfig", "KnowledgeIndex", "Manifest", "build_index", "load_index"]

FORMAT = 1
Progress = Callable[[str, int, int], None]
COVERED_SIMILARITY = 0.6  # a generic question this close to a KB text is not a negative
# texts per progress step of an encoding stage (e5 encodes about 50 texts a second on 2 shared
# cores, so a 10,000-entry KB shows progress every 20 s or so instead of once after 15 minutes)
ENCODE_CHUNK = 1000


class IndexError_(KefuError):
    code = "knowledge_index_invalid"


@dataclass(frozen=True)
class Manifest:
    format: int
    built_at: str
    entry_count: int
    text_count: int
    languages: tuple[str, ...]
    encoders: tuple[str, ...]
    channels: tuple[str, ...]
    threshold: float
    calibration_queries: int


def _texts(
    raw: Sequence[str],
    encoders: Sequence[str],
    progress: Progress | None,
    stage: str,
    saved: SavedVectors | None = None,
) -> Texts:
    norm = [normalise(t) for t in raw]
    vectors = {name: _encode(name, norm, progress, f"{stage}:{name}", saved) for name in encoders}
    return Texts(norm, [tokens(t) for t in norm], vectors)


def _encode(
    name: str, texts: list[str], progress: Progress | None, stage: str, saved: SavedVectors | None
) -> np.ndarray:
    """One encoder's vectors of ``texts``: the ones ``saved`` holds, and the others encoded with
    progress every ``ENCODE_CHUNK`` texts (``done`` / ``total`` count the texts to encode)."""
    encoder = get_encoder(name)

    def fresh(new: list[str]) -> np.ndarray:
        parts = []
        for start in range(0, len(new), ENCODE_CHUNK):
            parts.append(encoder.encode(new[start : start + ENCODE_CHUNK]))
            if progress:
                progress(stage, min(start + ENCODE_CHUNK, len(new)), len(new))
        return np.vstack(parts) if parts else encoder.encode([])

    if saved is None:
        return fresh(texts)
    vectors = saved.encode(encoder.fingerprint, texts, fresh)
    if progress:
        progress(f"{stage}:saved", len(texts), len(texts))
    return vectors


def _generic(
    langs: Sequence[str],
    docs: Texts,
    encoders: Sequence[str],
    config: IndexConfig,
    saved: SavedVectors | None,
) -> Texts:
    rows = [text for lang, text in generic_questions() if lang in langs] if config.generic_negatives else []
    generic = _texts(rows, encoders, None, "generic", saved)
    if not encoders or not rows:
        return generic
    probe = "use" if "use" in encoders else encoders[0]
    closest = (generic.vectors[probe] @ docs.vectors[probe].T).max(axis=1)
    return generic.subset(np.flatnonzero(closest < COVERED_SIMILARITY))


def build_index(
    entries: Sequence[FaqEntry],
    out_dir: Path,
    config: IndexConfig,
    progress: Progress | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    saved: SavedVectors | None = None,
) -> Manifest:
    """``saved``: vectors of earlier builds to reuse; it is given this build's vectors to keep
    once the build succeeded."""
    entries = [e for e in entries if e.enabled]
    if not entries:
        raise IndexError_("no enabled FAQ entries to index", code="knowledge_empty")
    langs = tuple(sorted({e.lang for e in entries}))
    encoders = config.encoder_names(langs)
    raw = [text for e in entries for text in e.texts()]
    labels = np.array([i for i, e in enumerate(entries) for _ in e.texts()], dtype=np.int64)
    docs = _texts(raw, encoders, progress, "encode", saved)
    generic = _generic(langs, docs, encoders, config, saved)
    answers = (
        _texts([e.answer for e in entries], encoders, progress, "answers", saved)
        if config.answer_channel
        else None
    )
    c = config
    plan = CvPlan(c.cv_folds, c.cv_max_queries, c.cv_entry_out, c.seed, c.cv_max_train_per_entry)
    ids, feats, gold = cross_validate(
        docs, labels, len(entries), encoders, generic, plan, progress, config.disabled, answers
    )
    calibrator = fit_calibrator(np.vstack(ids), np.vstack(feats), np.concatenate(gold))
    channels = Channels.fit(docs, labels, len(entries), encoders, answers)
    out_dir.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(encoders):
        FaissDense.build(docs.vectors[name], labels, len(entries)).save(out_dir / f"dense-{n}.faiss")
    np.save(out_dir / "doc_labels.npy", labels)
    channels.dense = {}
    joblib.dump(channels, out_dir / "channels.joblib", compress=3)
    (out_dir / "entries.json").write_text(
        json.dumps(
            [[e.key, e.lang, e.question, e.answer, list(e.tags)] for e in entries], ensure_ascii=False
        ),
        encoding="utf-8",
    )
    names = feature_names(sorted(without(_score_names(encoders, answers is not None), config.disabled)))
    manifest = Manifest(
        FORMAT,
        clock().isoformat(),
        len(entries),
        len(raw),
        langs,
        encoders,
        tuple(names),
        config.threshold if config.threshold is not None else DEFAULT_THRESHOLD,
        int(sum(len(g) for g in gold)),
    )
    body = {**asdict(manifest), "calibrator": calibrator.to_json(), "disabled": list(config.disabled)}
    (out_dir / "manifest.json").write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    if saved is not None:
        saved.save()
    if progress:
        progress("write", 1, 1)
    return manifest


def _score_names(encoders: Sequence[str], answers: bool) -> dict[str, np.ndarray]:
    names = ["lexical", "text_clf"] + (["vector_clf"] if encoders else []) + [f"dense:{n}" for n in encoders]
    names += [f"adapted:{n}" for n in encoders]
    if answers:
        names += ["answer:lexical"] + [f"answer:{n}" for n in encoders]
    return dict.fromkeys(names, np.zeros(0))


class KnowledgeIndex:
    """A loaded artifact; ``search`` is read-only and safe to call from several threads."""

    def __init__(self, directory: Path, config: IndexConfig) -> None:
        self.directory = directory
        body = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if body.get("format") != FORMAT:
            raise IndexError_(f"unsupported index format in {directory}")
        fields = {k: body[k] for k in Manifest.__dataclass_fields__}
        fields["languages"] = tuple(fields["languages"])
        fields["encoders"] = tuple(fields["encoders"])
        fields["channels"] = tuple(fields["channels"])
        self.manifest = Manifest(**fields)
        self.disabled = tuple(body.get("disabled", ()))
        self.calibrator = Calibrator.from_json(body["calibrator"])
        self.entries = [tuple(row) for row in json.loads((directory / "entries.json").read_text("utf-8"))]
        labels = np.load(directory / "doc_labels.npy")
        self.channels: Channels = joblib.load(directory / "channels.joblib")
        n = len(self.entries)
        self.channels.dense = {
            name: FaissDense.load(directory / f"dense-{i}.faiss", labels, n)
            for i, name in enumerate(self.manifest.encoders)
        }
        self.langs = np.array([row[1] for row in self.entries])
        threshold = config.threshold if config.threshold is not None else self.manifest.threshold
        self.rule = DecisionRule(threshold, config.clarify_margin, config.clarify_floor)
        self.k_candidates = config.candidates

    def _mask(self, lang: Lang | None) -> np.ndarray:
        if lang is None or not (self.langs == lang).any():
            return np.zeros(len(self.entries), dtype=bool)
        return np.asarray(self.langs != lang)

    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult:
        return self.search_many([text], lang=lang, k=k)[0]

    def search_many(self, texts: Sequence[str], lang: Lang | None = None, k: int = 5) -> list[SearchResult]:
        """``search`` for several questions at once (the encoders batch them)."""
        norm = [normalise(t) for t in texts]
        live = [i for i, t in enumerate(norm) if t]
        results = [SearchResult("decline", (), self.rule.threshold)] * len(norm)
        if not live:
            return results
        batch = [norm[i] for i in live]
        encoders = self.manifest.encoders
        query = Texts(batch, [tokens(t) for t in batch], {n: get_encoder(n).encode(batch) for n in encoders})
        scores = without(self.channels.scores(query), self.disabled)
        masked = np.broadcast_to(self._mask(lang), (len(batch), len(self.entries)))
        ids, feats = candidates(scores, masked, max(k, self.k_candidates))
        for row, position in enumerate(live):
            results[position] = self._result(ids[row], self.calibrator.probability(feats[row]), k)
        return results

    def _result(self, ids: np.ndarray, probs: np.ndarray, k: int) -> SearchResult:
        order = [i for i in np.argsort(-probs) if ids[i] >= 0]
        picked = [self._candidate(int(ids[i]), float(probs[i])) for i in order[:k]]
        decision = self.rule.decide(np.array([c.score for c in picked]))
        return SearchResult(decision, tuple(picked), self.rule.threshold)

    def _candidate(self, entry: int, score: float) -> Candidate:
        key, _lang, question, answer, tags = self.entries[entry]
        return Candidate(str(key), str(question), str(answer), round(score, 4), tuple(tags))


def load_index(directory: Path, config: IndexConfig) -> KnowledgeIndex:
    return KnowledgeIndex(directory, config)
