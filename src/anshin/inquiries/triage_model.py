"""The shipped triage classifier: weights from package data, prediction.

A multinomial logistic regression per field (intent, temperature,
harassment), trained offline by ``bench/train_triage.py`` on the labelled
set in tests/data/inquiries/ (never on its held-out split) and shipped as
``data/triage_model.npz``. Each field has two variants:

- *fast*: hashed words + cue flags (``triage_features``) — microseconds a line;
- *full*: the same plus the multilingual sentence encoder's 512-number vector
  (``triage_encoder``) — it understands wording no word list has, but costs
  about a millisecond a line, so triage asks it only when the fast variant is
  unsure (``Thresholds``) and encodes those lines in one batch.

Deterministic: same weights, same text → same answer.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from anshin.inquiries.triage_encoder import EMBED_DIM
from anshin.inquiries.triage_features import CUE_INDEX, DIM, Features

HEADS: dict[str, tuple[str, ...]] = {
    "intent": (
        "compensation_request",
        "data_concern",
        "complaint",
        "technical_question",
        "workaround_request",
        "status_inquiry",
        "unrelated",
    ),
    "temperature": ("0", "1", "2", "3"),
    "harassment": ("no", "yes"),
}
MODEL_FILE = "triage_model.npz"


def design(
    features: Sequence[Features], cue_sets: Sequence[tuple[str, ...]], embeddings: Any = None
) -> Any:
    """The dense design matrix the trainer fits (hashed block L2-normalised, cues 0/1, vector)."""
    width = DIM + len(CUE_INDEX) + (EMBED_DIM if embeddings is not None else 0)
    x = np.zeros((len(features), width), dtype=np.float32)
    for row, (feat, cues) in enumerate(zip(features, cue_sets, strict=True)):
        if feat.hashed:
            x[row, list(feat.hashed)] = 1.0 / np.sqrt(len(feat.hashed))
        for cue in cues:
            x[row, DIM + CUE_INDEX[cue]] = 1.0
    if embeddings is not None:
        x[:, DIM + len(CUE_INDEX) :] = embeddings
    return x


@dataclass(frozen=True)
class Thresholds:
    """Decisions the trainer tuned on the training split (stored beside the weights)."""

    confident: float  # fast intent probability at or above which the encoder is skipped
    lexical: float  # incident word score that links an inquiry without the encoder
    cosine: float  # encoder similarity that links an inquiry when words alone do not


class Model:
    """The weights of every head, both variants; ``logits`` is a sparse dot product."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.weights = {k: v.astype(np.float32) for k, v in arrays.items() if k.endswith("_w")}
        self.bias = {k: v.astype(np.float32) for k, v in arrays.items() if k.endswith("_b")}
        t = arrays["thresholds"]
        self.thresholds = Thresholds(float(t[0]), float(t[1]), float(t[2]))
        self.version = str(arrays["version"]) if "version" in arrays else "?"
        # Every head's weights side by side, per variant: one row gather serves all heads.
        self._stacked: dict[str, tuple[Any, Any]] = {}
        self._spans: dict[str, slice] = {}
        start = 0
        for head, classes in HEADS.items():
            self._spans[head] = slice(start, start + len(classes))
            start += len(classes)
        for variant in ("fast", "full"):
            if f"intent_{variant}_w" in self.weights:
                w = np.concatenate([self.weights[f"{h}_{variant}_w"] for h in HEADS], axis=1)
                b = np.concatenate([self.bias[f"{h}_{variant}_b"] for h in HEADS])
                self._stacked[variant] = (np.ascontiguousarray(w), b)

    def logits(
        self, head: str, feat: Features, cues: tuple[str, ...], embedding: Any = None
    ) -> Any:
        """Scores of one head's classes; with ``embedding`` the full variant, else the fast one."""
        variant = "full" if embedding is not None else "fast"
        w = self.weights[f"{head}_{variant}_w"]
        b = self.bias[f"{head}_{variant}_b"]
        out = b.copy()
        if feat.hashed:
            out += w[list(feat.hashed)].sum(axis=0) / np.sqrt(len(feat.hashed))
        for cue in cues:
            out += w[DIM + CUE_INDEX[cue]]
        if embedding is not None:
            out += embedding @ w[DIM + len(CUE_INDEX) :]
        return out

    def probabilities(
        self, head: str, feat: Features, cues: tuple[str, ...], embedding: Any = None
    ) -> dict[str, float]:
        """The head's classes with their probabilities."""
        z = self.logits(head, feat, cues, embedding)
        e = np.exp(z - z.max())
        p = e / e.sum()
        return {label: float(v) for label, v in zip(HEADS[head], p, strict=True)}

    def all_probabilities(
        self, feat: Features, embedding: Any = None
    ) -> dict[str, dict[str, float]]:
        """Every head's classes with their probabilities, from one gather of weight rows.

        The same sums as ``logits`` per head (same order of additions), done
        once for all heads: triage asks all three for every line.
        """
        variant = "full" if embedding is not None else "fast"
        w, b = self._stacked[variant]
        out = b.copy()
        if feat.hashed:
            out += w[list(feat.hashed)].sum(axis=0) / np.sqrt(len(feat.hashed))
        for cue in feat.cues:
            out += w[DIM + CUE_INDEX[cue]]
        if embedding is not None:
            out += embedding @ w[DIM + len(CUE_INDEX) :]
        result: dict[str, dict[str, float]] = {}
        for head, span in self._spans.items():
            z = out[span]
            e = np.exp(z - z.max())
            p = (e / e.sum()).tolist()
            result[head] = dict(zip(HEADS[head], p, strict=True))
        return result

    def batch_probabilities(
        self, feats: Sequence[Features], embeddings: Any = None
    ) -> list[dict[str, dict[str, float]]]:
        """``all_probabilities`` for many lines at once: one gather, one sum per line, one softmax.

        The batch CLI and intake ask for every line of a batch; per-line numpy
        calls on a few dozen numbers cost more in call overhead than in
        arithmetic. Rows of ``embeddings`` belong to ``feats`` in order.
        """
        n = len(feats)
        if n == 0:
            return []
        variant = "full" if embeddings is not None else "fast"
        w, b = self._stacked[variant]
        out = np.repeat(b[None, :], n, axis=0)
        counts = np.fromiter((len(f.hashed) for f in feats), dtype=np.intp, count=n)
        if counts.any():
            flat = np.fromiter(
                itertools.chain.from_iterable(f.hashed for f in feats),
                dtype=np.intp,
                count=int(counts.sum()),
            )
            rows = np.flatnonzero(counts)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[rows]
            sums = np.add.reduceat(w[flat], starts, axis=0)
            out[rows] += sums / np.sqrt(counts[rows].astype(np.float32))[:, None]
        cue_rows = [(i, DIM + CUE_INDEX[c]) for i, f in enumerate(feats) for c in f.cues]
        if cue_rows:
            line, column = zip(*cue_rows, strict=True)
            np.add.at(out, np.asarray(line), w[np.asarray(column)])
        if embeddings is not None:
            out += np.asarray(embeddings, dtype=np.float32) @ w[DIM + len(CUE_INDEX) :]
        result: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]
        for head, span in self._spans.items():
            z = out[:, span]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = (e / e.sum(axis=1, keepdims=True)).tolist()
            labels = HEADS[head]
            for row, probs in zip(result, p, strict=True):
                row[head] = dict(zip(labels, probs, strict=True))
        return result


_MODEL: Model | None = None
_MODEL_LOCK = threading.Lock()


def load() -> Model:
    """The shipped model, read once per process."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            path = resources.files("anshin.inquiries").joinpath("data", MODEL_FILE)
            with path.open("rb") as handle, np.load(handle, allow_pickle=False) as arrays:
                _MODEL = Model({k: arrays[k] for k in arrays.files})
        return _MODEL
