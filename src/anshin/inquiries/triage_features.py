"""What triage reads in an inquiry: hashed word features, cue words, the incident's own words.

Pure (no I/O, no database): ``inquiries.triage`` and the offline trainer
(``bench/train_triage.py``) compute exactly the same features, so what the
shipped classifier learnt is what it sees at run time.

Three kinds of evidence, because no single one generalises (issue 8, section 3):

- *words*: Sudachi normalised forms (でき/でけ → 出来る, ﾛｸﾞｲﾝ → ログイン), word
  pairs and character trigrams of the folded text (typos, kana spellings),
  hashed into a fixed space (``DIM``) with crc32 so every run is the same;
- *cues*: short lists of tell-tale words per intent, for temperature and
  for harassment (R25: 土下座しろ, 家に来い, SNSで晒す, insults). They are
  features the classifier weighs, not rules that decide on their own;
- *the incident's own words*: every open incident's title, summary,
  components, published updates and workaround become a vocabulary; the
  inquiry's words that only one incident uses point at it (``IncidentIndex``).
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import cast

from anshin.text.normalise import emoji, fold, fold_word, normalise
from anshin.text.tokens import content_words, meaningful, tokenize

DIM = 1 << 14

# Cue words (data, not code): data/triage_cues.toml.
_WORDS = tomllib.loads(
    resources.files("anshin.inquiries").joinpath("data", "triage_cues.toml").read_text("utf-8")
)
CUES: dict[str, str] = {name: "|".join(words) for name, words in _WORDS["cues"].items()}
# Words that are harassment whoever says them and whatever the classifier thinks (R25).
STRONG_HARASSMENT = re.compile("|".join(_WORDS["harassment"]["strong"]), re.IGNORECASE)
_CUES = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in CUES.items()}
CUE_NAMES: tuple[str, ...] = (
    *CUES,
    "angry_emoji",
    "sad_emoji",
    "exclaim_1",
    "exclaim_3",
    "short",
    "long",
)
CUE_INDEX = {name: i for i, name in enumerate(CUE_NAMES)}
_ANGRY = frozenset("😡🤬💢😠👊🖕💀")
_SAD = frozenset("😢😭🙏😰😥🥺")


_BUCKETS: dict[str, int] = {}
_BUCKETS_MAX = 1 << 17


def _bucket(name: str) -> int:
    """The hashed column of one feature name; remembered, since words and trigrams repeat."""
    found = _BUCKETS.get(name)
    if found is None:
        if len(_BUCKETS) >= _BUCKETS_MAX:
            _BUCKETS.clear()
        found = _BUCKETS[name] = zlib.crc32(name.encode("utf-8")) % DIM
    return found


@dataclass(frozen=True, slots=True)
class Features:
    """One inquiry as the classifier sees it: hashed indices, cue flags, the words it used."""

    hashed: tuple[int, ...]
    cues: tuple[str, ...]
    words: frozenset[str]
    clean: str
    folded: str = ""


_FOLDED: dict[str, str] = {}
# Enough for the words customers use; a stream of one-off words (order numbers) is
# forgotten in turn, not kept: 100,000 of them held 11 MB.
_FOLDED_MAX = 1 << 14


def _folded_word(word: str) -> str:
    """``fold_word``, remembered: the same few thousand words come back line after line."""
    found = _FOLDED.get(word)
    if found is None:
        if len(_FOLDED) >= _FOLDED_MAX:
            _FOLDED.clear()
        found = _FOLDED[word] = fold_word(word)
    return found


def read(text: str) -> Features:
    """The features of one inquiry's text.

    Whether an incident is open for it is deliberately not a feature: what
    the customer wants does not depend on what we know is broken.

    Runs on every line ``anshin triage`` reads, so the loops are the C ones
    (``map``, ``zip``) where Python's would do the same: the grams and their
    columns are those of one ``f"c:{folded[i:i+3]}"`` per position.
    """
    clean = normalise(text)
    lower = clean.lower()
    tokens = tokenize(clean, normalised=True)
    word_norms = [t.norm for t in tokens]
    grams: list[str] = ["u:" + w for w in word_norms]
    grams += [f"b:{a}|{b}" for a, b in itertools.pairwise(word_norms)]
    folded = fold_word(clean).replace(" ", "")
    grams += map("c:".__add__, map("".join, zip(folded, folded[1:], folded[2:], strict=False)))
    found = set(map(_BUCKETS.get, grams))  # most grams were seen before: a dict hit
    if None in found:
        found.discard(None)
        found.update([_bucket(g) for g in grams if g not in _BUCKETS])
    hashed = tuple(sorted(cast(set[int], found)))  # None was taken out
    cues = [name for name, pattern in _CUES.items() if pattern.search(lower)]
    marks = emoji(text)
    if any(ch in _ANGRY for ch in marks):
        cues.append("angry_emoji")
    if any(ch in _SAD for ch in marks):
        cues.append("sad_emoji")
    bangs = lower.count("!") + lower.count("?!")
    if bangs >= 1:
        cues.append("exclaim_1")
    if bangs >= 3:
        cues.append("exclaim_3")
    if len(clean) < 12:
        cues.append("short")
    if len(clean) > 80:
        cues.append("long")
    words = frozenset(map(_folded_word, meaningful(tokens)))
    return Features(hashed=hashed, cues=tuple(cues), words=words, clean=clean, folded=folded)


# Words every incident and every inquiry uses: they point at no incident in particular.
GENERIC = frozenset(fold(w) for w in _WORDS["incidents"]["generic"])


# Words customers use for what an incident's own words name (data, not code: the
# [incidents.synonyms] table of triage_cues.toml): an incident that says アップロード
# is also about アップ, 上げる and upload. Keys and words are folded like inquiry words.
SYNONYMS: dict[str, frozenset[str]] = {
    fold(key): frozenset(fold(w) for w in words)
    for key, words in _WORDS["incidents"].get("synonyms", {}).items()
}
# A word from the incident's heading (title, components) counts fully; one only in
# its summary, updates or workaround counts this much (those texts mention neighbours:
# "アプリにログインできません" is the sign-in incident's, not the app's).
BODY_FACTOR = 0.5


@dataclass(frozen=True)
class IncidentText:
    """What an open incident says about itself (``triage.IncidentProfile`` carries more).

    ``heading`` (title and components) names the incident; ``text`` is the
    rest of what it says.
    """

    reference: str
    text: str
    heading: str = ""


def _vocabulary(incident: IncidentText) -> dict[str, float]:
    """The incident's words with their field factor, synonyms added at their word's factor."""
    found: dict[str, float] = {}
    for part, factor in ((incident.text, BODY_FACTOR), (incident.heading, 1.0)):
        for word in content_words(part):
            folded = fold_word(word)
            for w in (folded, *SYNONYMS.get(folded, ())):
                if w not in GENERIC and found.get(w, 0.0) < factor:
                    found[w] = factor
    return found


@dataclass
class IncidentIndex:
    """The open incidents' vocabularies, weighted by how few incidents share each word.

    A word only one open incident uses (ログイン, 決済, upload) is strong
    evidence; a word all of them use (障害, 復旧) is none. A word of the
    incident's heading weighs more than one only in its summary or updates.
    Built once per set of open incidents and reused for every inquiry of a batch.
    """

    references: list[str]
    vocab: list[dict[str, float]]
    weight: dict[str, float] = field(default_factory=dict)
    spellable: tuple[str, ...] = ()
    # The spellable words by their first character, each with its place in ``spellable``.
    by_first: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.spellable and not self.by_first:
            for place, word in enumerate(self.spellable):
                self.by_first.setdefault(word[0], []).append((place, word))

    @classmethod
    def build(cls, incidents: Sequence[IncidentText]) -> IncidentIndex:
        vocab = [_vocabulary(i) for i in incidents]
        counts: dict[str, int] = {}
        for words in vocab:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        weight = {w: 1.0 / c for w, c in counts.items()}
        return cls(
            references=[i.reference for i in incidents],
            vocab=vocab,
            weight=weight,
            spellable=tuple(sorted(w for w in weight if _spellable(w))),
        )

    def present(self, words: Iterable[str], folded: str = "") -> set[str]:
        """The index's words the inquiry uses: as Sudachi words, or spelled inside its text.

        The spelled check finds katakana words written in hiragana or split
        oddly by the tokenizer (ろぐいん, あぷりがおちる): ``folded`` is the
        inquiry's folded text, and index words of three or more characters
        (two for kanji) found in it count as used.
        """
        found = {w for w in words if w in self.weight}
        if folded:
            # Only words whose first character the text has can be in it; taken in
            # ``spellable`` order, as a scan of all of them would add them.
            hits = [
                hit
                for first in self.by_first.keys() & set(folded)
                for hit in self.by_first[first]
                if hit[1] in folded
            ]
            found.update(word for _, word in sorted(hits))
        return found

    def scores(self, words: Iterable[str], folded: str = "") -> list[float]:
        """For each open incident, the summed weight of the inquiry's words it uses."""
        present = self.present(words, folded)
        return [sum(self.weight[w] * v[w] for w in present if w in v) for v in self.vocab]

    def matched_words(self, words: Iterable[str], position: int, folded: str = "") -> list[str]:
        """The inquiry's words incident ``position`` uses, the rarest first (for reasons)."""
        found = [w for w in self.present(words, folded) if w in self.vocab[position]]
        vocab = self.vocab[position]
        return sorted(found, key=lambda w: (-self.weight[w] * vocab[w], w))


def _spellable(word: str) -> bool:
    """Long enough to be found inside a text without matching by chance."""
    if word.isascii():
        return len(word) >= 4
    if all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return len(word) >= 2
    return len(word) >= 3


def softmax(logits: Sequence[float]) -> list[float]:
    """Probabilities from scores (max-shifted, so large scores do not overflow)."""
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]
