"""Console session cookies for tests that skip the sign-in form (argon2 is slow).

A cookie only names a server-side session (anshin.team.sessions), so a test
starts a real one in the database and signs the cookie with the app's key,
exactly as ``POST /login`` does.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

import itsdangerous
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.team import sessions as console_sessions
from anshin.team.models import User


def signed_cookie(secret: str, data: dict[str, Any]) -> str:
    """A cookie Starlette's SessionMiddleware accepts for ``data`` under ``secret``."""
    signer = itsdangerous.TimestampSigner(secret)
    return signer.sign(b64encode(json.dumps(data).encode())).decode()


def console_cookie(
    session: Session, settings: Settings, user_id: int, csrf: str | None = None
) -> str:
    """The cookie of a new live session of ``user_id`` (committed)."""
    user = session.get(User, user_id)
    assert user is not None
    sid = console_sessions.start(session, settings, user)
    session.commit()
    data: dict[str, Any] = {console_sessions.SID: sid}
    if csrf:
        data["csrf"] = csrf
    return signed_cookie(settings.secret_key, data)
