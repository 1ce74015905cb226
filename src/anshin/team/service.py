"""People and tokens: create, authenticate, resolve a bearer token."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.db import storage_cause, transaction, utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES
from anshin.inputs import BadInput
from anshin.team import rules
from anshin.team.models import ApiToken, User

_hasher = PasswordHasher()
# One argon2 check costs about 0.2 s on ``parallelism`` threads and 64 MiB. A burst of
# sign-ins all hashing at once starves every other request of CPU — including ones
# holding SQLite's write lock — and checks no faster in total (measured: 0.20 s each
# one at a time, 0.24 s two at a time on 2 CPUs), so as many hash at a time as the
# CPUs hold whole checks; the others wait their turn.
HASHING_SLOTS = max(1, (os.cpu_count() or 1) // _hasher.parallelism)
_hashing = threading.BoundedSemaphore(HASHING_SLOTS)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "anshin_"
# A bearer secret is the prefix and 43 URL-safe characters; anything far longer is junk.
TOKEN_MAX = 200
TOKEN_USE_GRANULARITY = dt.timedelta(minutes=1)
log = logging.getLogger("anshin.team")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """argon2id hash of a password (docs/design.md "auth")."""
    with _hashing:
        return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    locale: str = "ja",
    actor: str = "system",
) -> User:
    """Add a console user after checking every field; nothing is written on a refusal."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(N_("Enter a valid email address."), field="email")
    if not name.strip() or len(name) > 200:
        raise InvalidInput(N_("Enter a name of 1 to 200 characters."), field="name")
    if not rules.is_role(role):
        raise InvalidInput(
            N_("Unknown role: {role}. Use one of {roles}."),
            field="role",
            role=role,
            roles=", ".join(rules.ROLES),
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password must be at least {n} characters."), field="password", n=8
        )
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(N_("A user with this email already exists."), field="email")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        locale=locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE,
    )
    session.add(user)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        action="user.created",
        after={"email": email, "name": user.name, "role": role},
    )
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    """The user with this email, or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose password matches, or None (never says which part was wrong)."""
    user = get_user_by_email(session, email)
    if user is None or not user.active:
        hash_password(password)  # spend the same time either way
        return None
    try:
        with _hashing:
            _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# A token may be made to expire after 1 day to 10 years (no default: integrations
# that break at a surprising moment are a risk of their own; the admin chooses).
TOKEN_MAX_DAYS = 3650


def token_expiry(days: int | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a token made now for ``days`` days expires (None: it does not)."""
    if days is None:
        return None
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise BadInput(
            N_("Enter a number of days from 1 to {max}, or leave it empty."),
            field="expires_in_days",
            max=TOKEN_MAX_DAYS,
        )
    return (now or utcnow()) + dt.timedelta(days=days)


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    actor: str,
    expires_at: dt.datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new API token; the raw secret is returned once and only its hash is kept.

    ``expires_at``: refused from then on (issue 7); ``actor`` is kept as its creator.
    """
    if not name.strip() or len(name) > 200:
        raise InvalidInput(N_("Enter a name of 1 to 200 characters."), field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        prefix=raw[:12],
        token_hash=_digest(raw),
        user_id=user.id,
        expires_at=expires_at,
        created_by=actor[:200],
    )
    session.add(token)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="api_token",
        entity_id=token.id,
        action="token.created",
        after={
            "name": token.name,
            "prefix": token.prefix,
            "user_id": user.id,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return raw, token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first (hashes only; secrets are never kept)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    """Stop a token from working; the row stays for the audit trail."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(N_("No such API token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        events.record(
            session,
            actor=actor,
            entity_type="api_token",
            entity_id=token.id,
            action="token.revoked",
        )
    return token


def token_for(session: Session, raw: str) -> ApiToken | None:
    """The usable token behind a bearer secret (not revoked or expired, owner active), or None.

    Only reads: the time of use is written apart by :func:`record_token_use`, so
    a GET with a token stays a read even when the database refuses writes.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > TOKEN_MAX:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token


def user_for_token(session: Session, raw: str) -> User | None:
    """The active user behind a bearer token that is not revoked, or None."""
    token = token_for(session, raw)
    return token.user if token is not None else None


def record_token_use(
    factory: sessionmaker[Session],
    token: ApiToken,
    now: dt.datetime | None = None,
    *,
    session: Session | None = None,
) -> None:
    """Keep a token's last use, at most once a minute, in a transaction of its own.

    Best effort: the admin's token page shows the time, but no request may fail
    because it could not be written (a read-only or full database is logged).
    ``session``: a request that writes anyway keeps it in its own transaction.
    """
    now = now or utcnow()
    last = token.last_used_at
    if last is not None and now - last < TOKEN_USE_GRANULARITY:
        return
    if session is not None:
        token.last_used_at = now
        return
    try:
        with transaction(factory) as session:
            session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
    except SQLAlchemyError as exc:
        # One line: under a burst this is expected now and then (SQLite's write lock).
        log.warning(
            "could not record the use of API token %s: %s", token.prefix, storage_cause(exc)
        )
        return
    token.last_used_at = now


def list_users(session: Session) -> list[User]:
    """Everyone who can sign in, by role then name."""
    return list(session.scalars(select(User).order_by(User.role, User.name)))
