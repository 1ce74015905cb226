"""Triage: which open incident an inquiry is about, what the customer wants, how hot (issue 8 §3).

``Triager.run`` decides for a batch of inquiries against the open incidents'
profiles; ``for_intake`` is the one-inquiry entry point intake calls with a
session. The decision, per inquiry:

1. read the text (``triage_features.read``: normalised text, Sudachi words,
   cue words);
2. score every open incident by the inquiry's words it shares with the
   incident's own title, summary, components, updates and workaround, rare
   words weighing more (``IncidentIndex``);
3. run the shipped classifier's fast variant (``triage_model``); when it is
   unsure, or the incident is not clear from the words, encode the text with
   the sentence encoder (batched) and use the full variant and the encoder's
   similarity to each incident;
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
from sqlalchemy import select
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
from anshin.inquiries.triage_model import Model, load

HARASSMENT_TEMPLATE = "harassment_warning"
REPLY_TEMPLATE = "inquiry_reply"
# A second incident this close to the best one (word score) leaves the words undecided.
TIE_MARGIN = 0.25
# Encoder similarity must beat the runner-up by this much to link on its own.
COSINE_MARGIN = 0.03
# Distinct (text, tier) answers a triager remembers (a surge repeats the same words).
MEMO_MAX = 10_000


@dataclass(frozen=True)
class IncidentProfile:
    """What an open incident tells about itself: the words triage matches inquiries against."""

    reference: str
    title: str
    summary: str = ""
    components: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    workaround: str = ""
    has_workaround: bool = False
    id: int | None = None

    def text(self) -> str:
        """Every word of the profile in one text (for the word index)."""
        parts = [self.title, self.summary, *self.components, *self.updates, self.workaround]
        return "\n".join(p for p in parts if p)

    def heading(self) -> str:
        """Title and components: the words that name the incident (they weigh most)."""
        return "\n".join(p for p in (self.title, *self.components) if p)

    def body(self) -> str:
        """Summary, updates and workaround: what the incident says beyond its name."""
        return "\n".join(p for p in (self.summary, *self.updates, self.workaround) if p)

    def gist(self) -> str:
        """Title, components and summary: what the encoder compares an inquiry with."""
        return " / ".join(p for p in (self.title, " ".join(self.components), self.summary) if p)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentProfile:
        """A profile from the labelled data set's JSON."""
        return cls(
            reference=str(data["reference"]),
            title=str(data.get("title", "")),
            summary=str(data.get("summary", "")),
            components=tuple(data.get("components", ())),
            updates=tuple(data.get("updates", ())),
            workaround=str(data.get("workaround") or ""),
            has_workaround=bool(data.get("has_workaround", False)),
        )


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


# -- the open incidents, from the database ---------------------------------------------------

# One row per piece of an open incident's profile, in one statement (intake runs it per
# inquiry): ("i", id, reference, title, title_en, summary, summary_en, workaround,
# workaround_en), ("c", incident id, name, name_en, …) per component, ("u", incident id,
# body_ja, body_en, …) per public update. Padded with NULLs to one width for UNION ALL.
_WIDTH = 7


def _profile_rows() -> Any:
    from sqlalchemy import String, cast, literal, null, union_all

    from anshin.components.models import Component
    from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate
    from anshin.incidents.rules import Audience, IncidentStatus

    is_open = Incident.status != IncidentStatus.RESOLVED

    def padded(kind: str, key: Any, order: Any, *columns: Any) -> Any:
        cols = [*columns] + [null()] * (_WIDTH - len(columns))
        return select(literal(kind).label("k"), key.label("incident"), order.label("o"), *cols)

    incidents = padded(
        "i",
        Incident.id,
        Incident.id,
        Incident.reference,
        Incident.title,
        Incident.title_en,
        Incident.summary,
        Incident.summary_en,
        Incident.workaround,
        Incident.workaround_en,
    ).where(is_open)
    parts = (
        padded(
            "c",
            IncidentComponent.incident_id,
            IncidentComponent.id,
            Component.name,
            Component.name_en,
        )
        .join(Component, Component.id == IncidentComponent.component_id)
        .join(Incident, Incident.id == IncidentComponent.incident_id)
        .where(is_open)
    )
    updates = (
        padded(
            "u",
            IncidentUpdate.incident_id,
            IncidentUpdate.id,
            IncidentUpdate.body_ja,
            IncidentUpdate.body_en,
            cast(IncidentUpdate.published_at, String),  # text, to share the column with words
        )
        .join(Incident, Incident.id == IncidentUpdate.incident_id)
        .where(is_open, IncidentUpdate.audience == Audience.PUBLIC)
    )
    return union_all(incidents, parts, updates)


_ROWS_STATEMENT: Any = None


def _profiles_from(rows: Sequence[Any]) -> list[IncidentProfile]:
    """The profiles the rows of ``_profile_rows`` describe (the same as the ORM would give)."""
    heads = sorted((r for r in rows if r[0] == "i"), key=lambda r: r[1])
    components: dict[int, list[str]] = {}
    for row in sorted((r for r in rows if r[0] == "c"), key=lambda r: r[2]):
        components.setdefault(row[1], []).extend(n for n in (row[3], row[4]) if n)
    updates: dict[int, list[str]] = {}
    # Oldest first, as the incident's page shows them (published_at, then id).
    for row in sorted((r for r in rows if r[0] == "u"), key=lambda r: (str(r[5]), r[2])):
        updates.setdefault(row[1], []).extend(b for b in (row[3], row[4]) if b)
    profiles = []
    for row in heads:
        incident_id = row[1]
        reference, title, title_en, summary, summary_en, work, work_en = row[3:10]
        workaround = "\n".join(w for w in (work, work_en) if w)
        profiles.append(
            IncidentProfile(
                reference=reference,
                title=" / ".join(t for t in (title, title_en) if t),
                summary="\n".join(s for s in (summary, summary_en) if s),
                components=tuple(components.get(incident_id, ())),
                updates=tuple(updates.get(incident_id, ())),
                workaround=workaround,
                has_workaround=bool(workaround.strip()),
                id=incident_id,
            )
        )
    return profiles


def _read_rows(session: Session) -> tuple[tuple[Any, ...], ...]:
    global _ROWS_STATEMENT
    if _ROWS_STATEMENT is None:
        _ROWS_STATEMENT = _profile_rows()
    return tuple(tuple(row) for row in session.execute(_ROWS_STATEMENT))


def open_profiles(session: Session) -> list[IncidentProfile]:
    """Every incident not resolved, as a profile: titles, components, public updates, workaround.

    Both languages go in (title_en, body_en …): customers write in either.
    Internal notes and internal updates never do — triage reads only what
    customers could have read. One SELECT (``_profile_rows``), whatever the
    number of incidents.
    """
    return _profiles_from(_read_rows(session))


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
    rows = _read_rows(session)
    with _TRIAGERS_LOCK:
        found = _TRIAGERS.get(rows)
    if found is None:
        found = Triager(tuple(_profiles_from(rows)))
        _remember(rows, found)
    return found


def for_intake(
    session: Session,
    settings: Settings,
    text: str,
    tier: str,
    received_at: dt.datetime | None = None,
) -> TriageValues:
    """Triage one arriving inquiry against the open incidents: the values intake stores (R18–R22).

    ``received_at`` is accepted for rules that will read the time (none does
    yet: an inquiry is triaged against the incidents open when it is read).
    """
    del settings, received_at  # part of the intake contract; no setting changes triage yet
    result = current_triager(session).one(text, tier)
    return TriageValues(
        incident_id=result.incident_id,
        intent=result.intent,
        level=result.level,
        temperature=result.temperature,
        harassment=result.harassment,
        reasons=result.reasons,
        suggested_template=result.suggested_template,
    )
