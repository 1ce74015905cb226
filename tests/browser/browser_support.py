"""The live server, seed data and browser settings the browser tests share."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.incidents import components
from anshin.team import service as team_service
from anshin.team.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"
USERS = {
    "operator": ("op@example.com", "一次対応オペレーター"),
    "senior": ("senior@example.com", "二次対応シニア"),
    "supervisor": ("sv@example.com", "スーパーバイザー"),
    "admin": ("admin@example.com", "管理者"),
}
COMPONENTS = [
    ("ログイン", "Login", "基盤"),
    ("管理画面", "Admin console", "基盤"),
    ("決済", "Payments", "決済・請求"),
    ("メール配信", "Email delivery", "連携"),
]
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class LiveServer:
    """uvicorn serving one app in a thread; ``url`` is its base address."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self._socket.close()

    def session(self) -> Session:
        """A session on the server's database, to seed or to check what was written."""
        factory: Any = self.app.state.sessions
        session: Session = factory()
        return session


def seed(settings: Settings) -> None:
    """One user per role and the components of a small SaaS."""
    engine = make_engine(settings.database_url)
    password_hash = team_service.hash_password(PASSWORD)
    with make_sessionmaker(engine)() as session:
        for role, (email, name) in USERS.items():
            session.add(User(email=email, name=name, role=role, password_hash=password_hash))
        for name, name_en, group in COMPONENTS:
            components.add_component(session, name, name_en=name_en, group=group, actor="seed")
        session.commit()
    engine.dispose()
