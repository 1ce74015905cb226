"""Triage: which open incident an inquiry is about, what the customer wants, how hot (issue 8 §3).

``Triager.run`` decides for a batch of inquiries against the open incidents'
profiles (``triage_incidents``: what each open incident says, read in one
SELECT); ``for_intake`` is the entry point intake calls with a session and
the inquiries of a group. The decision, per inquiry:

1. read the text (``triage_features.read``: normalised text, Sudachi words,
   cue words);
2. score every open incident by the inquiry's words it shares with the
   incident's own title, summary, components, updates and workaround, rare
   words weighing more (``IncidentIndex``);
3. run the shipped classifier's fast variant (``triage_model``); when it is
   unsure, or the incident is not clear from the words, encode the text with
   the sentence encoder (``triage_encoder``, batched) and use the full variant
   and the encoder's similarity to each incident;
4. intent, temperature and harassment (R25) from the classifier; the level
   from the R22 table, ``rules.level_for`` — never reimplemented here;
5. reasons: short sentences an agent reads to see why.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.inquiries import rules
from anshin.inquiries.service import TriageValues
from anshin.inquiries.triage_encoder import Encoder
from anshin.inquiries.triage_features import (
    STRONG_HARASSMENT,
    Features,
    IncidentIndex,
    IncidentText,
    read,
)
from anshin.inquiries.triage_incidents import (
    IncidentProfile,
    open_profiles,
    profiles_from,
    read_rows,
)
from anshin.inquiries.triage_model import Model, load

# Importers name these from here (triage_cli, review.history, the trainer, tests).
__all__ = [
    "IncidentProfile",
    "TriageResult",
    "Triager",
    "current_triager",
    "for_intake",
    "open_profiles",
    "triager_for",
]

HARASSMENT_TEMPLATE = "harassment_warning"
REPLY_TEMPLATE = "inquiry_reply"
# A second incident this close to the best one (word score) leaves the words undecided.
TIE_MARGIN = 0.25
# Encoder similarity must beat the runner-up by this much to link on its own.
COSINE_MARGIN = 0.03
# Distinct (text, tier) answers a triager remembers (a surge repeats the same words).
MEMO_MAX = 10_000


@dataclass(frozen=True)
class TriageResult:
    """The answer for one inquiry (the CLI prints it; intake stores it)."""

    incident: str | None
    intent: str
    level: int
    temperature: int
    harassment: bool
    reasons: tuple[str, ...]
    suggested_template: str
    incident_id: int | None = None
    used_encoder: bool = False

    def as_json(self, line_id: Any) -> dict[str, Any]:
        """The line ``anshin triage`` prints."""
        return {
            "id": line_id,
            "incident": self.incident,
            "intent": self.intent,
            "level": self.level,
            "temperature": self.temperature,
            "harassment": self.harassment,
            "reasons": list(self.reasons),
            "suggested_template": self.suggested_template,
        }


@dataclass
class Triager:
    """Triage against one set of open incidents; built once, reused for every inquiry of a batch.

    The incidents' word index and their encoder vectors are computed once
    here (the vectors on first need), not per inquiry.
    """

    profiles: Sequence[IncidentProfile]
    model: Model = field(default_factory=load)
    use_encoder: bool = True

    def __post_init__(self) -> None:
        self.index = IncidentIndex.build(
            [IncidentText(p.reference, p.body(), p.heading()) for p in self.profiles]
        )
        self._vectors: Any = None
        self._memo: dict[tuple[str, str], TriageResult] = {}

    def _profile_vectors(self) -> Any:
        if self._vectors is None:
            self._vectors = Encoder.encode_cached([p.gist() for p in self.profiles])
        return self._vectors

    def run(self, items: Sequence[tuple[str, str]]) -> list[TriageResult]:
        """Triage ``(text, tier)`` pairs; the unsure ones share one encoder batch.

        A text already triaged by this triager (same tier) is answered from
        ``_memo``: in a surge many customers send the same words (chat
        presets, "ログインできない"), and the answer is deterministic.
        """
        todo = list(dict.fromkeys(item for item in items if item not in self._memo))
        if todo:
            made = self._triage(todo)
            if len(self._memo) + len(made) > MEMO_MAX:
                self._memo.clear()
            self._memo.update(zip(todo, made, strict=True))
        return [self._memo[item] for item in items]

    def _triage(self, items: Sequence[tuple[str, str]]) -> list[TriageResult]:
        feats = [read(text) for text, _ in items]
        fast = self.model.batch_probabilities(feats)
        lexical = [self.index.scores(f.words, f.folded) for f in feats]
        linked = [self._lexical_pick(scores) for scores in lexical]
        unsure = [
            i for i in range(len(feats)) if self.use_encoder and self._unsure(fast[i], linked[i])
        ]
        vectors = Encoder.encode([feats[i].clean or " " for i in unsure]) if unsure else None
        by_row = {row: vectors[k] for k, row in enumerate(unsure)} if vectors is not None else {}
        full = self.model.batch_probabilities([feats[i] for i in unsure], vectors) if unsure else []
        probs = dict(enumerate(fast)) | dict(zip(unsure, full, strict=True))
        return [
            self._decide(feat, items[i][1], linked[i], by_row.get(i), probs[i])
            for i, feat in enumerate(feats)
        ]

    def one(self, text: str, tier: str = rules.Tier.STANDARD) -> TriageResult:
        """Triage a single inquiry."""
        return self.run([(text, tier)])[0]

    # -- the parts ------------------------------------------------------------------------

    def _lexical_pick(self, scores: list[float]) -> int | None:
        """The incident the words point at: above the threshold and clear of the runner-up."""
        if not scores:
            return None
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        best = order[0]
        if scores[best] < self.model.thresholds.lexical:
            return None
        if len(order) > 1 and scores[order[1]] > scores[best] - TIE_MARGIN:
            return None
        return best

    def _unsure(self, fast: dict[str, dict[str, float]], linked: int | None) -> bool:
        intent = fast["intent"]
        if max(intent.values()) < self.model.thresholds.confident:
            return True
        harass = fast["harassment"]["yes"]
        if 0.2 < harass < 0.8:
            return True
        # Words that point at no incident (or several) from a text that is not unrelated.
        return (
            bool(self.profiles)
            and linked is None
            and max(intent, key=intent.__getitem__) != (rules.Intent.UNRELATED)
        )

    def _decide(
        self,
        feat: Features,
        tier: str,
        linked: int | None,
        vector: Any,
        probs: dict[str, dict[str, float]],
    ) -> TriageResult:
        reasons: list[str] = []
        position = linked
        if position is not None:
            words = self.index.matched_words(feat.words, position, feat.folded)[:4]
            reasons.append(
                f"incident {self.profiles[position].reference}: its words {', '.join(words)}"
            )
        elif vector is not None and self.profiles:
            sims = self._profile_vectors() @ vector
            order = np.argsort(-sims)
            best = int(order[0])
            runner = float(sims[order[1]]) if len(order) > 1 else -1.0
            close_enough = float(sims[best]) >= self.model.thresholds.cosine
            if close_enough and float(sims[best]) - runner >= COSINE_MARGIN:
                position = best
                reasons.append(
                    f"incident {self.profiles[best].reference}: similar wording "
                    f"({float(sims[best]):.2f})"
                )
        intent_p = probs["intent"]
        intent = max(intent_p, key=intent_p.__getitem__)
        if intent == rules.Intent.UNRELATED and position is not None and linked is None:
            position = None  # only a vague likeness, and nothing the customer wants about it
            reasons.clear()
        temp_p = probs["temperature"]
        temperature = int(max(temp_p, key=temp_p.__getitem__))
        harassment = probs["harassment"]["yes"] >= 0.5
        harassment = harassment or bool(STRONG_HARASSMENT.search(feat.clean))
        if harassment:
            temperature = 3
        profile = self.profiles[position] if position is not None else None
        level = rules.level_for(
            intent,
            harassment=harassment,
            tier=tier,
            incident_has_workaround=bool(profile and profile.has_workaround),
        )
        if profile is None:
            reasons.append("no open incident matches")
        reasons.append(f"intent {intent} ({intent_p[intent]:.2f})")
        cue_words = [c for c in feat.cues if c not in ("polite", "short", "long")]
        if cue_words:
            reasons.append("cues: " + ", ".join(cue_words))
        if harassment:
            reasons.append("harassment: threats, insults or demands beyond reason (R25)")
        if tier == rules.Tier.IMPORTANT:
            reasons.append("important customer")
        if vector is not None:
            reasons.append("sentence encoder consulted")
        return TriageResult(
            incident=profile.reference if profile else None,
            incident_id=profile.id if profile else None,
            intent=intent,
            level=level,
            temperature=temperature,
            harassment=harassment,
            reasons=tuple(reasons),
            suggested_template=HARASSMENT_TEMPLATE if harassment else REPLY_TEMPLATE,
            used_encoder=vector is not None,
        )


_TRIAGERS: dict[Any, Triager] = {}
_TRIAGERS_LOCK = threading.Lock()
TRIAGERS_MAX = 8


def triager_for(profiles: Sequence[IncidentProfile]) -> Triager:
    """A triager for these open incidents, reused while they stay the same (intake is hot)."""
    key = tuple(profiles)
    with _TRIAGERS_LOCK:
        found = _TRIAGERS.get(key)
    if found is None:
        found = Triager(key)
        _remember(key, found)
    return found


def _remember(key: Any, triager: Triager) -> None:
    with _TRIAGERS_LOCK:
        if len(_TRIAGERS) >= TRIAGERS_MAX:
            _TRIAGERS.clear()
        _TRIAGERS[key] = triager


def current_triager(session: Session) -> Triager:
    """The triager for the incidents open now in this database, built only when they changed.

    Every call reads the open incidents' words (one SELECT: what they say
    now, whichever process or server changed them); the rows themselves are
    the cache key, so a new update, an edited title or a resolved incident
    makes a new triager at once, and nothing assumes one process. What is
    saved per call is the work: profiles, the word index, the encoder's
    vectors of each incident.
    """
    rows = read_rows(session)
    with _TRIAGERS_LOCK:
        found = _TRIAGERS.get(rows)
    if found is None:
        found = Triager(tuple(profiles_from(rows)))
        _remember(rows, found)
    return found


def for_intake(
    session: Session,
    settings: Settings,
    arrivals: Sequence[tuple[str, str, dt.datetime | None]],
) -> list[TriageValues]:
    """Triage arriving inquiries against the open incidents: the values intake stores (R18–R22).

    ``arrivals`` are ``(text, tier, received_at)``; intake brings a group at a
    time (concurrent requests taken together, ``inquiries.intake_group``), and
    the unsure among them share one encoder batch. ``received_at`` is accepted
    for rules that will read the time (none does yet: an inquiry is triaged
    against the incidents open when it is read).
    """
    del settings  # part of the intake contract; no setting changes triage yet
    results = current_triager(session).run([(text, tier) for text, tier, _ in arrivals])
    return [
        TriageValues(
            incident_id=result.incident_id,
            intent=result.intent,
            level=result.level,
            temperature=result.temperature,
            harassment=result.harassment,
            reasons=result.reasons,
            suggested_template=result.suggested_template,
        )
        for result in results
    ]
