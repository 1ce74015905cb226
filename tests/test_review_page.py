"""The review page in the console (R30, R31), on SQLite and PostgreSQL: every metric by its
exact name and a label, durations a person reads, the timeline in the team's zone, the gaps in
words with the inquiries and updates behind them; the way to it from the incident's record."""

from __future__ import annotations

import re

import pytest

from anshin.config import Settings
from anshin.review import views
from review_world import world
from test_console_support import client_for, database, login, seed, text_of


@pytest.fixture
def stored(settings: Settings) -> dict[str, object]:
    seed(settings)
    with database(settings) as session:
        on, ups = world(session, settings)
        return {"ref": on.reference, "updates": {k: u.id for k, u in ups.items()}}


def test_the_review_page_shows_metrics_timeline_and_gaps(
    settings: Settings, stored: dict[str, object]
) -> None:
    ref = stored["ref"]
    updates = stored["updates"]
    assert isinstance(updates, dict)
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get(f"/console/incidents/{ref}/review")
        assert page.status_code == 200, page.text
        text = text_of(page.text)
        # Metrics: the exact name and a label; 10:00 → 10:05 reads as five minutes.
        assert "first_notice_seconds" in text and "宣言から最初の公開告知まで" in text
        assert re.search(
            r"first_notice_seconds</code></td>\s*<td class=\"num\">5分</td>", page.text
        )
        assert re.search(
            r"longest_silence_seconds</code></td>\s*<td class=\"num\">1時間20分</td>", page.text
        )
        # Gaps in words, linked to the inquiries and to the updates they could read.
        assert "10:00–11:30：状況のお問い合わせ4件が復旧の時期を尋ねました" in text
        assert "12:00–12:30：状況のお問い合わせ1件" in text and "過ぎていました" in text
        assert page.text.count('href="/console/inquiries/Q-') >= 7
        first = updates["first"]
        assert f'href="#update-{first}"' in page.text and f'id="update-{first}"' in page.text
        assert "まだ何も公開されていませんでした" not in text  # Q at 10:02 is in a run with #first
        # The timeline in Japan time.
        assert "2026/12/01 10:05 (JST)" in text
        # The report's three charts, drawn on the server (no script), with Japanese labels.
        charts = page.text.split('id="charts"')[1].split("</section>")[0]
        assert charts.count("<svg") == 3 and "<script" not in charts
        assert "お問い合わせ件数の推移" in charts
        english = client.get(f"/console/incidents/{ref}/review?lang=en")
        assert (
            "10:00–11:30: 4 status inquiries asked when it would be back "
            "while no update gave an estimate"
        ) in text_of(english.text)
        assert "Declaration to the first public notice" in english.text
        assert re.search(
            r"first_notice_seconds</code></td>\s*<td class=\"num\">5 min</td>", english.text
        )
        record = client.get(f"/console/incidents/{ref}")
        assert f'href="/console/incidents/{ref}/review"' in record.text


def test_a_gap_with_many_inquiries_links_the_rest_through_the_queue(
    settings: Settings, stored: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SHOWN_INQUIRIES", 2)
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get(f"/console/incidents/{stored['ref']}/review")
        first = page.text.split('class="gap ')[1]
        assert first.count('href="/console/inquiries/Q-') == 2
        assert f'href="/console/inquiries?incident={stored["ref"]}">ほか2件</a>' in first


def test_the_review_page_refuses_clearly(settings: Settings, stored: dict[str, object]) -> None:
    with client_for(settings) as client:
        anonymous = client.get(f"/console/incidents/{stored['ref']}/review")
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        login(client, "operator")
        missing = client.get("/console/incidents/INC-1999-0001/review")
        assert missing.status_code == 404 and "INC-1999-0001" in text_of(missing.text)
        odd = client.get("/console/incidents/%00/review")
        assert 400 <= odd.status_code < 500
