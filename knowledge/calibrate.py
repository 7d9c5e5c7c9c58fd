"""Build-time cross-validation that trains the calibrator.

Each fold holds out (a) a share of every entry's texts, which become in-scope queries whose
own entry is the right answer, and (b) every text of a share of the entries, which become
near-domain questions the remaining KB cannot answer. The shipped generic questions
(generic_oos.txt) are a third source of negatives, minus any that the KB itself covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from knowledge.channels import Channels, Texts, without
from knowledge.features import candidates
from knowledge.fusion import Calibrator

GENERIC_OOS_FILE = Path(__file__).with_name("generic_oos.txt")
Progress = Callable[[str, int, int], None]
Scorer = Callable[[Channels, Texts], dict[str, np.ndarray]]


def generic_questions(path: Path = GENERIC_OOS_FILE) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            lang, text = line.split("\t", 1)
            rows.append((lang.strip(), text.strip()))
    return rows


@dataclass(frozen=True)
class CalibrationSet:
    features: np.ndarray  # rows x features, one row per (query, candidate)
    labels: np.ndarray  # 1 when the candidate is the query's entry
    top_scores: np.ndarray  # filled in after fitting: per query, best candidate's score
    top_correct: np.ndarray  # per query: 1 correct top, 0 wrong top, -1 out of scope


@dataclass(frozen=True)
class CvPlan:
    folds: int = 3
    max_queries: int = 3000
    entry_out: bool = True
    seed: int = 0
    max_train_per_entry: int = 30  # caps each fold's fitting cost on large KBs


def _cap_per_entry(rows: np.ndarray, labels: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``limit`` randomly chosen rows of each entry (rows index ``labels``)."""
    shuffled = rng.permutation(rows)
    order = np.argsort(labels[shuffled], kind="stable")
    grouped = shuffled[order]
    starts = np.searchsorted(labels[grouped], labels[grouped])
    keep = np.arange(len(grouped)) - starts < limit
    return np.sort(grouped[keep])


def _doc_folds(labels: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    out = np.full(len(labels), -1)
    for entry in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == entry))
        if len(rows) > 1:
            out[rows] = (np.arange(len(rows)) + rng.integers(folds)) % folds
            if len(rows) < folds + 1:  # keep at least one text of each entry in training
                out[rows[0]] = -1
    return out


def _sample(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return rows if len(rows) <= limit else np.sort(rng.choice(rows, limit, replace=False))


def cross_validate(
    docs: Texts,
    labels: np.ndarray,
    n_entries: int,
    encoders: Sequence[str],
    generic: Texts,
    plan: CvPlan,
    progress: Progress | None = None,
    disabled: Sequence[str] = (),
    answers: Texts | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Returns per fold (candidate ids, features, gold entry or -1) for every held-out query."""
    rng = np.random.default_rng(plan.seed)
    doc_fold = _doc_folds(labels, plan.folds, rng)
    entry_fold = rng.permutation(n_entries) % plan.folds if plan.entry_out and n_entries >= 8 else None
    per_fold = max(plan.max_queries // plan.folds, 50)
    ids_out, feats_out, gold_out = [], [], []
    for fold in range(plan.folds):
        out_entries = entry_fold == fold if entry_fold is not None else np.zeros(n_entries, bool)
        held = (doc_fold == fold) & ~out_entries[labels]
        train = ~held & ~out_entries[labels]
        fit_rows = _cap_per_entry(np.flatnonzero(train), labels, plan.max_train_per_entry, rng)
        channels = Channels.fit(docs.subset(fit_rows), labels[fit_rows], n_entries, encoders, answers)
        pos = _sample(np.flatnonzero(held), per_fold, rng)
        neg = _sample(np.flatnonzero(out_entries[labels]), per_fold // 2, rng)
        queries = np.concatenate([pos, neg])
        gold = np.concatenate([labels[pos], np.full(len(neg), -1)])
        for batch in (docs.subset(queries), generic):
            scores = without(channels.scores(batch), disabled)
            masked = np.broadcast_to(out_entries, (len(batch.texts), n_entries))
            ids, feats = candidates(scores, masked)
            ids_out.append(ids)
            feats_out.append(feats)
        gold_out += [gold, np.full(len(generic.texts), -1)]
        if progress:
            progress("calibrate", fold + 1, plan.folds)
    return ids_out, feats_out, gold_out


def fit_calibrator(ids: np.ndarray, feats: np.ndarray, gold: np.ndarray, c: float = 1.0) -> Calibrator:
    valid = ids >= 0
    x = feats[valid]
    y = (ids == gold[:, None])[valid].astype(int)
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-6)
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit((x - mean) / scale, y)
    return Calibrator(mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))
