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
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from anshin.text.normalise import emoji, fold, normalise
from anshin.text.tokens import content_words, norms

DIM = 1 << 14

# Cue words, matched against the normalised lower-case text (kana as written).
CUES: dict[str, str] = {
    "compensation": "|".join(
        (
            "返金",
            "返して",
            "返せ",
            "補償",
            "賠償",
            "弁償",
            "慰謝料",
            "減額",
            "日割り",
            "差し引",
            "違約金",
            "解約",
            "打ち切",
            "クレジットを申請",
            "refund",
            "compensat",
            "service credit",
            "credit our",
            "credit my",
            "money back",
            "cancel",
            "払え",
        )
    ),
    "data": "|".join(
        (
            "二重",
            "2重",
            "二回",
            "2回",
            "重複",
            "何十通",
            "3件",
            "消え",
            "消し",
            "失われ",
            "漏え",
            "漏洩",
            "漏れ",
            "流出",
            "他人",
            "別のお客様",
            "他社",
            "別のテナント",
            "乗っ取",
            "不正アクセス",
            "誤送信",
            "混ざ",
            "壊れ",
            "charged twice",
            "duplicate",
            "missing",
            "lost",
            "leak",
            "corrupt",
            "dropped",
            "someone else",
            "宛名が間違",
        )
    ),
    "complaint": "|".join(
        (
            "ひどい",
            "最悪",
            "おかしくない",
            "いい加減",
            "ふざけ",
            "遅すぎ",
            "対応が遅",
            "誠意",
            "放置",
            "信用",
            "不満",
            "改善",
            "しっかり",
            "ちゃんとして",
            "ありえない",
            "何回目",
            "再発",
            "足りない",
            "失礼",
            "困ります",
            "無駄",
            "テストしてない",
            "unacceptable",
            "terrible",
            "ridiculous",
            "disappointed",
            "useless",
            "unreliable",
            "did anyone test",
        )
    ),
    "technical": "|".join(
        (
            "エラー",
            "コード",
            "api",
            "設定",
            "仕様",
            "webhook",
            "sdk",
            "http",
            "[1-5]\\d\\d",
            "タイムアウト",
            "キャッシュ",
            "cookie",
            "バージョン",
            "ログを",
            "リトライ",
            "リダイレクト",
            "署名",
            "チェックサム",
            "トランザクション",
            "error",
            "timeout",
            "config",
            "version",
            "retry",
            "endpoint",
            "ブラウザ",
            "ios",
            "android",
            "spf",
            "saml",
            "sso",
            "graphql",
        )
    ),
    "workaround": "|".join(
        (
            "代わり",
            "別の方法",
            "他の方法",
            "ほかに方法",
            "ほかにやり方",
            "回避",
            "暫定",
            "とりあえず",
            "手段",
            "どうすれば",
            "どうしたら",
            "どうすりゃ",
            "手動で",
            "でもいいですか",
            "workaround",
            "alternative",
            "another way",
            "backup way",
            "fallback",
            "instead",
            "can i pay by",
            "any way",
        )
    ),
    "status": "|".join(
        (
            "いつ",
            "復旧",
            "直る",
            "直り",
            "直ん",
            "なおる",
            "なおり",
            "見込み",
            "状況",
            "障害で",
            "障害中",
            "障害でしょう",
            "障害ですか",
            "続報",
            "解消",
            "known issue",
            "eta",
            "when",
            "status",
            "still",
            "is .* down",
            "update on",
            "落ちてる",
        )
    ),
    "harassment": "|".join(
        (
            "土下座",
            "晒",
            "殺す",
            "殺すぞ",
            "死ね",
            "クズ",
            "カス",
            "ボケ",
            "アホ",
            "バカ",
            "馬鹿",
            "無能",
            "役立たず",
            "家に来",
            "家まで",
            "来い",
            "来させろ",
            "来て説明",
            "覚えとけ",
            "どうなるか",
            "沈めて",
            "クビ",
            "名前出せ",
            "住所",
            "詐欺会社",
            "泥棒",
            "そっちに行く",
            "idiot",
            "moron",
            "stupid",
            "incompetent",
            "know where",
            "watch yourselves",
            "post your names",
            "everyone on twitter",
        )
    ),
    "anger": "|".join(
        (
            "くそ",
            "クソ",
            "ふざけ",
            "いい加減",
            "ありえない",
            "最悪",
            "何時間",
            "ねえ",
            "ねー",
            "しろ",
            "返せ",
            "んだよ",
            "やがって",
            "てめ",
            "お前",
            "ほんま",
            "f\\*+",
            "damn",
            "unacceptable",
            "ridiculous",
        )
    ),
    "polite": "|".join(
        (
            "ございます",
            "いただけ",
            "でしょうか",
            "恐れ入",
            "お手数",
            "お世話になって",
            "幸いです",
            "please",
            "could you",
        )
    ),
}
# Words that are harassment whoever says them and whatever the classifier thinks (R25).
STRONG_HARASSMENT = re.compile(
    r"土下座|晒す|晒して|晒してやる|殺す|殺すぞ|死ね|家に来い|家まで|"
    r"覚えとけ|沈めてやる|i know where|watch yourselves",
    re.IGNORECASE,
)
_CUES = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in CUES.items()}
CUE_NAMES: tuple[str, ...] = (
    *CUES,
    "angry_emoji",
    "sad_emoji",
    "exclaim_1",
    "exclaim_3",
    "short",
    "long",
    "incident_words",
    "no_incident_words",
)
CUE_INDEX = {name: i for i, name in enumerate(CUE_NAMES)}
_ANGRY = frozenset("😡🤬💢😠👊🖕💀")
_SAD = frozenset("😢😭🙏😰😥🥺")


def _bucket(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % DIM


@dataclass(frozen=True, slots=True)
class Features:
    """One inquiry as the classifier sees it: hashed indices, cue flags, the words it used."""

    hashed: tuple[int, ...]
    cues: tuple[str, ...]
    words: frozenset[str]
    clean: str
    folded: str = ""


def read(text: str) -> Features:
    """The features of one inquiry's text (without the incident-match cue, see ``with_match``)."""
    clean = normalise(text)
    lower = clean.lower()
    word_norms = norms(clean)
    grams: list[str] = [f"u:{w}" for w in word_norms]
    grams += [f"b:{a}|{b}" for a, b in itertools.pairwise(word_norms)]
    folded = fold(clean).replace(" ", "")
    grams += [f"c:{folded[i : i + 3]}" for i in range(max(0, len(folded) - 2))]
    hashed = tuple(sorted({_bucket(g) for g in grams}))
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
    words = frozenset(fold(w) for w in content_words(clean))
    return Features(hashed=hashed, cues=tuple(cues), words=words, clean=clean, folded=folded)


def with_match(features: Features, matched: bool) -> tuple[str, ...]:
    """The cue flags plus whether the inquiry's words point at an open incident."""
    return (*features.cues, "incident_words" if matched else "no_incident_words")


# Words every incident and every inquiry uses: they point at no incident in particular.
GENERIC = frozenset(
    fold(w)
    for w in (
        "障害",
        "発生",
        "復旧",
        "確認",
        "調査",
        "対応",
        "影響",
        "一部",
        "現在",
        "お客",
        "様",
        "状況",
        "事象",
        "予定",
        "利用",
        "サービス",
        "出来る",
        "為る",
        "有る",
        "居る",
        "成る",
        "無い",
        "御",
        "方",
        "時",
        "件",
        "場合",
        "下さる",
        "致す",
        "頂く",
        "申し訳",
        "今",
        "中",
        "事",
        "物",
        "所",
        "エラー",
        "失敗",
        "不具合",
        "error",
        "errors",
        "issue",
        "issues",
        "outage",
        "down",
        "the",
        "a",
        "an",
        "is",
        "are",
        "be",
        "to",
        "of",
        "and",
        "or",
        "for",
        "on",
        "in",
        "we",
        "our",
        '"',
        '"some',
        "may",
        "customers",
        "customer",
        "it",
        "this",
        "that",
        "with",
        "by",
        "from",
        "part",
    )
)


@dataclass(frozen=True, slots=True)
class IncidentText:
    """What an open incident says about itself (``triage.IncidentProfile`` carries more)."""

    reference: str
    text: str


@dataclass
class IncidentIndex:
    """The open incidents' vocabularies, weighted by how few incidents share each word.

    A word only one open incident uses (ログイン, 決済, upload) is strong
    evidence; a word all of them use (障害, 復旧) is none. Built once per set of
    open incidents and reused for every inquiry of a batch.
    """

    references: list[str]
    vocab: list[frozenset[str]]
    weight: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, incidents: Sequence[IncidentText]) -> IncidentIndex:
        vocab = [frozenset(fold(w) for w in content_words(i.text)) - GENERIC for i in incidents]
        counts: dict[str, int] = {}
        for words in vocab:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        weight = {w: 1.0 / c for w, c in counts.items()}
        return cls(references=[i.reference for i in incidents], vocab=vocab, weight=weight)

    def present(self, words: Iterable[str], folded: str = "") -> set[str]:
        """The index's words the inquiry uses: as Sudachi words, or spelled inside its text.

        The spelled check finds katakana words written in hiragana or split
        oddly by the tokenizer (ろぐいん, あぷりがおちる): ``folded`` is the
        inquiry's folded text, and index words of three or more characters
        (two for kanji) found in it count as used.
        """
        found = {w for w in words if w in self.weight}
        if folded:
            found.update(w for w in self.weight if _spellable(w) and w in folded)
        return found

    def scores(self, words: Iterable[str], folded: str = "") -> list[float]:
        """For each open incident, the summed weight of the inquiry's words it uses."""
        present = self.present(words, folded)
        return [sum(self.weight[w] for w in present if w in v) for v in self.vocab]

    def matched_words(self, words: Iterable[str], position: int, folded: str = "") -> list[str]:
        """The inquiry's words incident ``position`` uses, the rarest first (for reasons)."""
        found = [w for w in self.present(words, folded) if w in self.vocab[position]]
        return sorted(found, key=lambda w: (-self.weight[w], w))


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
