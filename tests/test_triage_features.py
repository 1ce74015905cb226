"""Triage's word features against their plain definitions (issue 8 §3).

``triage_features.read`` and ``IncidentIndex.present`` run on every line
``anshin triage`` reads, so they are written with C loops, remembered
columns and a first-character index. The shipped classifier learnt the
plain definitions; these tests hold the fast forms to them on every
labelled inquiry (and on the same texts made unseen), so a speed-up that
changes a feature fails here.
"""

from __future__ import annotations

import itertools
import json
import zlib
from pathlib import Path

from anshin.inquiries import triage_features as tf
from anshin.inquiries.triage import IncidentProfile
from anshin.text import normalise as n
from anshin.text.tokens import meaningful, tokenize

DATA = Path(__file__).parent / "data" / "inquiries" / "inquiries.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
TEXTS = [r["text"] for r in ROWS] + [f"{r['text']} #{i}" for i, r in enumerate(ROWS)]


def plain_columns(text: str) -> tuple[int, ...]:
    """The hashed columns by their definition: crc32 of every gram's name, modulo DIM."""
    clean = n.normalise(text)
    norms = [t.norm for t in tokenize(clean, normalised=True)]
    folded = n.fold_word(clean).replace(" ", "")
    grams = [f"u:{w}" for w in norms]
    grams += [f"b:{a}|{b}" for a, b in itertools.pairwise(norms)]
    grams += [f"c:{folded[i : i + 3]}" for i in range(max(0, len(folded) - 2))]
    return tuple(sorted({zlib.crc32(g.encode("utf-8")) % tf.DIM for g in grams}))


def test_read_gives_the_plain_columns_and_words() -> None:
    for text in TEXTS:
        feat = tf.read(text)
        assert feat.hashed == plain_columns(text), text
        tokens = tokenize(n.normalise(text), normalised=True)
        assert feat.words == frozenset(n.fold_word(w) for w in meaningful(tokens)), text


def test_read_is_the_same_with_nothing_remembered() -> None:
    """Columns and folded words come out alike from a cold cache and a warm one."""
    warm = [tf.read(t) for t in TEXTS[:60]]
    tf._BUCKETS.clear()
    tf._FOLDED.clear()
    n._DROP.clear()
    n._KEPT.clear()
    assert [tf.read(t) for t in TEXTS[:60]] == warm


def test_spelled_words_are_found_as_a_scan_of_all_finds_them() -> None:
    every = {p["reference"]: p for row in ROWS for p in row["incidents"]}
    profiles = [IncidentProfile.from_dict(p) for p in every.values()]
    texts = [tf.IncidentText(p.reference, p.body(), p.heading()) for p in profiles]
    index = tf.IncidentIndex.build(texts)
    assert index.spellable and index.by_first
    for text in TEXTS:
        feat = tf.read(text)
        scan = {w for w in feat.words if w in index.weight}
        scan.update(w for w in index.spellable if w in feat.folded)
        found = index.present(feat.words, feat.folded)
        assert found == scan, text
        assert list(found) == list(scan), text  # same order: the scores sum alike


def test_strip_emoji_after_its_characters_are_known() -> None:
    for _ in range(2):  # the second time every character is remembered
        assert n.strip_emoji("ログイン😡できない🙏") == "ログインできない"
        assert n.strip_emoji("決済 ✅ 完了\u200d") == "決済  完了"
        assert n.strip_emoji("ふつうの文") == "ふつうの文"
