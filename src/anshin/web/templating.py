"""The one Jinja2 environment every page renders with.

Each domain keeps its templates in ``<domain>/templates/<domain>/``; the
layout lives in ``web/templates``. Translations come from the ``locale`` in
the template context, so one environment serves every request and language.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from anshin.comms.lint.display import group_findings, rule_name
from anshin.i18n import SUPPORTED_LOCALES, translations
from anshin.timefmt import clock_local, format_local, input_local, parse_stored

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def template_dirs() -> list[str]:
    """Every domain's templates folder, found on disk so a new domain needs no list to edit.

    ``web`` (the layout) comes first; the others follow in name order.
    """
    found = sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.is_dir())
    found.sort(key=lambda p: p.parent.name != "web")
    return [str(d) for d in found]


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context.get("locale") or "ja").gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context.get("locale") or "ja").ngettext(singular, plural, n)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment, built once per process (it holds no request state)."""
    env = Environment(
        loader=FileSystemLoader(template_dirs()),
        autoescape=select_autoescape(["html", "xml", "j2"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters["localtime"] = lambda value, zone, locale="ja": format_local(value, zone, locale)
    env.filters["clocktime"] = lambda value, zone: clock_local(value, zone)
    # A time as an event keeps it (ISO text) or as stored, in the reader's zone.
    env.filters["isotime"] = lambda value, zone, locale="ja": format_local(
        parse_stored(value), zone, locale
    )
    # A datetime-local input's value in the team's zone.
    env.filters["inputtime"] = lambda value, zone: input_local(value, zone)
    env.filters["isoformat"] = lambda value: value.isoformat() if value else ""
    # The languages pages loop over, from the one place they are defined.
    env.globals["LOCALES"] = SUPPORTED_LOCALES
    # The message check's findings as the console lists them (comms.lint.display).
    env.globals["finding_groups"] = group_findings
    env.globals["rule_name"] = rule_name
    return env


def render(name: str, context: dict[str, Any]) -> str:
    """Render one template to a string."""
    return environment().get_template(name).render(**context)
