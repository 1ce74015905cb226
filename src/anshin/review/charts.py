"""Bar charts as hand-written SVG, drawn on the server for the review report (R31).

The report is read as a PDF, an HTML file sent round by mail, or Markdown in
a wiki: none of them runs JavaScript, so each chart is a complete SVG
document built here from numbers already worked out. Every piece of text that
comes from the record (labels, titles) is XML-escaped, so a component called
``<b>`` stays text. Pure: no I/O.

One shape serves the three charts of issue 10 section 6 — inquiries per 15
minutes with the public updates as markers, first-response times in
buckets, and each update's lateness against the time promised before it
(negative bars: early) — so they read alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 680
HEIGHT = 250
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 34, 52
FONT = "'Noto Sans CJK JP', 'Noto Sans JP', sans-serif"
TONES = {"bar": "#3b6ea5", "late": "#c0392b", "ok": "#2e8b57", "marker": "#e67e22"}


@dataclass(frozen=True)
class Bar:
    """One bar: its label under the axis, its value, and its colour's meaning."""

    label: str
    value: float
    tone: str = "bar"  # a key of TONES


@dataclass(frozen=True)
class Marker:
    """A vertical line at a (fractional) bar position, e.g. a public update's time."""

    position: float  # 0 = left edge of the first bar, len(bars) = right edge of the last
    label: str


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def _nice_top(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten at or above the value (never 0)."""
    if value <= 2:
        return 2.0  # counts: whole-number ticks (0, 1, 2) rather than 0.5
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10  # pragma: no cover - the loop always returns


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str,
    markers: Sequence[Marker] = (),
    empty: str = "",
) -> str:
    """A complete SVG document: bars (negative ones below the zero line), markers, labels.

    ``unit`` names the values on the axis ("件", "min"); ``empty`` is shown
    instead of bars when there is nothing to draw, so a chart never looks
    like a measurement of zero.
    """
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}" font-size="11" role="img">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        _text(LEFT, 20, title, font_size="14", font_weight="bold", fill="#222"),
    ]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    if not bars:
        parts.append(_text(WIDTH / 2, TOP + plot_h / 2, empty, text_anchor="middle", fill="#666"))
        parts.append("</svg>")
        return "\n".join(parts)
    high = _nice_top(max(max(b.value for b in bars), 0))
    low = -_nice_top(-min(b.value for b in bars)) if min(b.value for b in bars) < 0 else 0.0
    span = high - low

    def y_of(value: float) -> float:
        return TOP + (high - value) / span * plot_h

    zero = y_of(0)
    for tick in (low, 0, high) if low else (0, high / 2, high):
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(_text(LEFT - 4, y + 4, f"{tick:g}", text_anchor="end", fill="#444"))
    parts.append(_text(4, TOP - 6, unit, fill="#444"))
    slot = plot_w / len(bars)
    every = max(1, round(len(bars) / 12))  # at most about 12 labels under the axis
    for i, bar in enumerate(bars):
        x = LEFT + i * slot + slot * 0.15
        top, bottom = sorted((y_of(bar.value), zero))
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(bottom - top, 0.5):.1f}" fill="{TONES.get(bar.tone, TONES["bar"])}"/>'
        )
        if i % every == 0:
            parts.append(
                _text(
                    LEFT + (i + 0.5) * slot, HEIGHT - BOTTOM + 14, bar.label, text_anchor="middle"
                )
            )
    parts.append(
        f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{WIDTH - RIGHT}" y2="{zero:.1f}" stroke="#333"/>'
    )
    for n, marker in enumerate(markers):
        x = LEFT + min(max(marker.position, 0), len(bars)) * slot
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" '
            f'stroke="{TONES["marker"]}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
        # Labels alternate between two rows so neighbouring markers stay legible.
        row = HEIGHT - BOTTOM + 28 + (n % 2) * 13
        parts.append(_text(x, row, marker.label, text_anchor="middle", fill=TONES["marker"]))
    parts.append("</svg>")
    return "\n".join(parts)


# Buckets of first-response time, in minutes: (upper bound, label); None = no bound.
RESPONSE_BUCKETS: tuple[tuple[float | None, str], ...] = (
    (5, "≤5"),
    (15, "≤15"),
    (30, "≤30"),
    (60, "≤60"),
    (120, "≤120"),
    (None, ">120"),
)


def response_buckets(seconds: Sequence[float]) -> list[Bar]:
    """First-response times counted per bucket (minutes); an empty list when none answered."""
    if not seconds:
        return []
    counts = [0] * len(RESPONSE_BUCKETS)
    for value in seconds:
        minutes = value / 60
        for i, (bound, _) in enumerate(RESPONSE_BUCKETS):
            if bound is None or minutes <= bound:
                counts[i] += 1
                break
    return [Bar(label, n) for (_, label), n in zip(RESPONSE_BUCKETS, counts, strict=True)]


def lateness_bars(rows: Sequence[tuple[str, float]]) -> list[Bar]:
    """Each update's minutes after (+) or before (−) the time promised; late ones red (R5)."""
    return [
        Bar(label, round(minutes, 1), "late" if minutes > 0 else "ok") for label, minutes in rows
    ]
