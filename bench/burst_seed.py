"""Seed a database for bench/burst.py with the anshin on ``sys.path`` (run as a script).

Run in a process of its own with the ``PYTHONPATH`` of the tree under test, so
the same seed serves the current code and an older checkout (``--src``): the
schema from that tree's migrations, one operator whose password the burst gets
wrong, two components, an open incident with its first notice on the page.

    python bench/burst_seed.py DATABASE_URL
"""

from __future__ import annotations

import sys

EMAIL = "operator@example.com"
PASSWORD = "correct-horse-battery"
FIRST_NOTICE = (
    "現在、一部のお客様がログインできない状態が発生しております。"
    "ご不便をおかけし、誠に申し訳ございません。原因は現在確認中です。"
    "次回は30分後までにお知らせいたします。",
    "Some customers cannot sign in at the moment. We are sorry for the inconvenience. "
    "We are investigating the cause. We will post the next update within 30 minutes.",
)


def seed(url: str) -> None:
    from anshin import migrations
    from anshin.config import Settings
    from anshin.db import make_engine, make_sessionmaker
    from anshin.incidents import components
    from anshin.incidents import service as incidents
    from anshin.statuspage import service as statuspage
    from anshin.team import service as team

    migrations.upgrade(url)
    settings = Settings(database_url=url, secret_key="bench-secret-not-for-production")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        team.create_user(session, email=EMAIL, name="一次対応", role="operator", password=PASSWORD)
        for name, name_en in (("ログイン", "Sign-in"), ("決済", "Payments")):
            components.add_component(session, name, name_en=name_en, actor="bench")
        incident = incidents.declare(
            session,
            settings,
            incidents.IncidentInput(
                title="ログインできない障害", severity="sev2", components=["ログイン"]
            ),
            actor="bench",
        )
        incidents.publish_update(
            session,
            settings,
            incident,
            body_ja=FIRST_NOTICE[0],
            body_en=FIRST_NOTICE[1],
            actor="bench",
        )
        statuspage.publish(session, settings)
        session.commit()
    engine.dispose()


if __name__ == "__main__":
    seed(sys.argv[1])
