"""Turn per-entry channel scores into a short candidate list with one feature row per candidate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

CANDIDATES = 8
NEG = -1e9


def channel_order(scores: Mapping[str, np.ndarray]) -> list[str]:
    return sorted(scores)


def feature_names(channels: Sequence[str]) -> list[str]:
    names = []
    for name in channels:
        names += [name, f"{name}:margin", f"{name}:best", f"{name}:rank"]
    return [*names, "prior", "prior:margin", "prior:rank", "agree:top1", "agree:top3", "agree:query"]


def _ranks(values: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """Each entry's rank (0 = best) among the allowed entries in one channel."""
    order = np.argsort(-np.where(masked, NEG, values), axis=1, kind="stable")
    out = np.empty(order.shape, dtype=np.float32)
    np.put_along_axis(out, order, np.arange(order.shape[1], dtype=np.float32)[None, :], axis=1)
    return out


def _margin(values: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """Each entry's score minus the best score among the other (allowed) entries."""
    v = np.where(masked, NEG, values)
    order = np.argsort(-v, axis=1)
    best = np.take_along_axis(v, order[:, :1], axis=1)
    second = np.take_along_axis(v, order[:, 1:2], axis=1) if v.shape[1] > 1 else np.full_like(best, 0.0)
    second = np.where(second <= NEG / 2, 0.0, second)
    is_best = np.arange(v.shape[1])[None, :] == order[:, :1]
    return np.asarray(np.where(is_best, v - second, v - best), dtype=np.float32)


def candidates(
    scores: Mapping[str, np.ndarray], masked: np.ndarray, k: int = CANDIDATES
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (queries x k) entry ids and (queries x k x features); ``masked`` (queries x entries)
    marks entries that may not be returned (other language, held out). Masked slots get id -1."""
    names = channel_order(scores)
    n_q, n_e = masked.shape
    prior = sum((scores[n] for n in names), np.zeros((n_q, n_e), dtype=np.float32))
    prior = np.where(masked, NEG, prior)
    k = min(k, n_e)
    top = np.argsort(-prior, axis=1)[:, :k]
    columns = []
    top1 = np.zeros((n_q, n_e), dtype=np.float32)  # agreement: channels that rank the entry first
    top3 = np.zeros((n_q, n_e), dtype=np.float32)
    for name in names:
        values = scores[name]
        best = np.where(masked, NEG, values).max(axis=1, keepdims=True)
        ranks = _ranks(values, masked)
        top1 += ranks == 0
        top3 += ranks < 3
        columns += [values, _margin(values, masked), np.broadcast_to(best, values.shape), np.log1p(ranks)]
    rank_full = np.full((n_q, n_e), k, dtype=np.float32)
    np.put_along_axis(rank_full, top, np.arange(k, dtype=np.float32)[None, :].repeat(n_q, axis=0), axis=1)
    lead = np.take_along_axis(top1, top[:, :1], axis=1)  # how many channels agree on the query's leader
    columns += [prior, _margin(prior, masked), rank_full, top1, top3, np.broadcast_to(lead, (n_q, n_e))]
    full = np.stack(columns, axis=2)
    feats = np.take_along_axis(full, top[:, :, None], axis=1)
    allowed = np.take_along_axis(~masked, top, axis=1)
    return np.where(allowed, top, -1), np.asarray(feats, dtype=np.float32)
