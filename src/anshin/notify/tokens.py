"""Signed links in subscriber mail: confirm a subscription, unsubscribe in one click.

Both are signed with the installation's key (itsdangerous; ``ANSHIN_SECRET_KEY`` or
the generated one, anshin.instance.secret) and carry the
subscriber's id plus a digest of the address, so a tampered or recycled token
is refused without a database lookup deciding anything. Confirmation links
expire (double opt-in must be fresh); unsubscribe links never do, because an
old mail must still let a person leave (RFC 8058).
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.instance.secret import signing_key
from anshin.notify import rules, wire

_CONFIRM_SALT = "anshin.notify.confirm"
_UNSUBSCRIBE_SALT = "anshin.notify.unsubscribe"
_SURVEY_SALT = "anshin.review.survey"
SURVEY_MAX_AGE_SECONDS = 60 * 24 * 3600  # two months to answer a survey


class BadToken(AnshinError):
    """A link that was altered, cut short or expired (HTTP 400): nothing changes."""

    status = 400


# Serializers are built once per secret key: a worker signs one unsubscribe token per
# mail (R4 fan-out), and building one derives its HMAC key again each time. They hold
# no per-call state, so threads share them.
@lru_cache(maxsize=8)
def _confirm_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_CONFIRM_SALT)


@lru_cache(maxsize=8)
def _unsubscribe_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_UNSUBSCRIBE_SALT)


def confirm_token(settings: Settings, subscriber_id: int, address: str) -> str:
    """The token in the confirmation mail's link."""
    serializer = _confirm_serializer(signing_key(settings))
    return str(serializer.dumps([subscriber_id, wire.address_tag(address)]))


def unsubscribe_token(settings: Settings, subscriber_id: int, address: str) -> str:
    """The token in every mail's unsubscribe link and List-Unsubscribe header."""
    serializer = _unsubscribe_serializer(signing_key(settings))
    return str(serializer.dumps([subscriber_id, wire.address_tag(address)]))


@lru_cache(maxsize=8)
def _survey_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SURVEY_SALT)


def survey_token(settings: Settings, incident_id: int, respondent: str) -> str:
    """The token of one recipient's survey link: the incident and who answers (R30).

    ``respondent`` is ``sub:<subscriber id>`` or ``inq:<inquiry reference>``;
    the link needs no login, and one respondent has one answer per incident.
    """
    serializer = _survey_serializer(signing_key(settings))
    return str(serializer.dumps([incident_id, respondent]))


def read_survey_token(settings: Settings, token: str) -> tuple[int, str]:
    """(incident id, respondent) from a survey token, or BadToken."""
    serializer = _survey_serializer(signing_key(settings))
    try:
        payload = serializer.loads(token, max_age=SURVEY_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadToken(N_("This survey link has expired. Thank you all the same.")) from None
    except BadSignature:
        raise BadToken(N_("This link is not valid. Check that it was copied completely.")) from None
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
        and len(payload[1]) <= 40
    ):
        return payload[0], payload[1]
    raise BadToken(N_("This link is not valid. Check that it was copied completely."))


def _parse(payload: object) -> tuple[int, str]:
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
    ):
        return payload[0], payload[1]
    raise BadToken(N_("This link is not valid. Check that it was copied completely."))


def read_confirm_token(
    settings: Settings, token: str, *, max_age: int = rules.CONFIRM_MAX_AGE_SECONDS
) -> tuple[int, str]:
    """(subscriber id, address tag) from a confirmation token, or BadToken."""
    serializer = _confirm_serializer(signing_key(settings))
    try:
        return _parse(serializer.loads(token, max_age=max_age))
    except SignatureExpired:
        raise BadToken(N_("This confirmation link has expired. Please subscribe again.")) from None
    except BadSignature:
        raise BadToken(N_("This link is not valid. Check that it was copied completely.")) from None


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, str]:
    """(subscriber id, address tag) from an unsubscribe token, or BadToken."""
    serializer = _unsubscribe_serializer(signing_key(settings))
    try:
        return _parse(serializer.loads(token))
    except BadSignature:
        raise BadToken(N_("This link is not valid. Check that it was copied completely.")) from None
