"""What each finding tells the writer, in the locale of the checked text.

The default texts are English msgids translated in
``i18n/locales/ja/LC_MESSAGES/lint.po``. A data-file entry may carry its own
``message`` / ``suggestion`` (written in that file's locale), which wins; both
may use ``{term}`` (the words found) and ``{alternative}``.

The wording follows the guides: say what is wrong in one line, then show the
sentence to write instead, because a writer under pressure copies examples
faster than they apply principles (000: templates make answers fast).
"""

from __future__ import annotations

from anshin.i18n import N_, translate

# rule -> (message msgid, suggestion msgid)
DEFAULTS: dict[str, tuple[str, str]] = {
    "speculation": (
        N_("“{term}” is a guess. Tell customers only what has been confirmed."),
        N_(
            "Remove the guess. For anything not yet confirmed, write “We are still "
            "confirming this” and say when you will contact them next (for example "
            "“We will update you by 15:30”). If you are checking a possibility, you may "
            "write “This has not been confirmed yet; we are investigating it as a "
            "possibility.”"
        ),
    ),
    "jargon": (
        N_("“{term}” is a technical word many customers will not know."),
        N_(
            "Use plain words, for example “{alternative}”, or explain the word in the "
            "same sentence in brackets."
        ),
    ),
    "jargon-no-alternative": (
        N_("“{term}” is a technical word many customers will not know."),
        N_(
            "Describe what the customer sees or can do instead, or explain the word in "
            "the same sentence in brackets."
        ),
    ),
    "missing-apology": (
        N_("There is no apology."),
        N_(
            "Apologise for something specific near the start, for example “We are very "
            "sorry for the inconvenience this outage is causing you.” You can apologise "
            "for the trouble even before the facts are confirmed."
        ),
    ),
    "missing-next-update": (
        N_("The message does not say when the customer will hear from you next."),
        N_(
            "Promise the time of the next update, even if there may be no news: for "
            "example “We will send the next update by 15:30.”"
        ),
    ),
    "next-update-mismatch": (
        N_(
            "The text promises the next update at {term}, but the next update time is set "
            "to {expected}."
        ),
        N_(
            "Take the time from the text: set the next update time to {term}. Or, if "
            "{expected} is right, write {expected} in the text. Customers read both times."
        ),
    ),
    "vague-deadline": (
        N_("“{term}” promises something without saying by when."),
        N_(
            "Give a date or time in the same sentence, for example “We will contact "
            "you by 17:00 today.”"
        ),
    ),
    "excuse": (
        N_("“{term}” reads as an excuse or as shifting the blame."),
        N_(
            "Apologise first, as the company. Explain only the facts the customer needs "
            "for the solution, without justifying ourselves or blaming anyone."
        ),
    ),
    "vague-responsibility": (
        N_("“{term}” does not say what actually went wrong, so responsibility looks vague."),
        N_(
            "Name the confirmed cause concretely (for example “a check before the "
            "release was skipped”). If it is not known yet, write “The cause is still "
            "being confirmed” and when you will report next."
        ),
    ),
    "missing-empathy": (
        N_("Nothing acknowledges the customer's situation."),
        N_(
            "Add a line that pictures what the customer went through, for example "
            "“We know the service stopping suddenly must have been a surprise.”"
        ),
    ),
    "unconfirmed-as-fact-recovery": (
        N_("The incident record says recovery is not confirmed, but “{term}” states it as a fact."),
        N_(
            "Say it is an estimate that is still being confirmed, for example “We "
            "currently estimate recovery around 15:00, but this is still being "
            "confirmed.”"
        ),
    ),
    "unconfirmed-as-fact-cause": (
        N_(
            "The incident record says the cause is not confirmed, but “{term}” states it as a fact."
        ),
        N_(
            "Write “The cause is still being confirmed” and when you will report next, "
            "until the cause is confirmed in the incident record."
        ),
    ),
    "avoid-expression": (
        N_("“{term}” is on the list of expressions to avoid."),
        N_("Say it another way, for example “{alternative}”."),
    ),
    "avoid-expression-no-alternative": (
        N_("“{term}” is on the list of expressions to avoid."),
        N_("Rewrite it in your own words, saying concretely what happened and what you will do."),
    ),
    "casual-wording": (
        N_(
            "“{term}” is casual wording; in a notice it reads as if the trouble were taken lightly."
        ),
        N_(
            "Write it in the polite, plain register of a notice, for example “The service "
            "is currently unavailable” instead of slang or jokes."
        ),
    ),
    "unfounded-promise": (
        N_("“{term}” promises an outcome nobody can be sure of yet."),
        N_(
            "Say what you are doing and when you will report next, for example “We are "
            "working to restore the service and will update you by 15:30.” Promise a "
            "result only once it is confirmed."
        ),
    ),
    "long-sentence": (
        N_("This sentence is {length} characters long (aim for {limit} or fewer)."),
        N_("Split it into shorter sentences with one point each."),
    ),
}


def render(template: str, term: str = "", alternative: str = "") -> str:
    """Fill ``{term}`` and ``{alternative}`` without tripping over other braces."""
    return template.replace("{term}", term).replace("{alternative}", alternative)


def default(rule: str, locale: str, **params: str | int) -> tuple[str, str]:
    """The translated default message and suggestion of ``rule``."""
    message, suggestion = DEFAULTS[rule]
    return translate(locale, message, **params), translate(locale, suggestion, **params)
