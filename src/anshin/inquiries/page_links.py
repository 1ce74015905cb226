"""Where a form of the desk's panels goes back to once it is done (R19-R24).

The reply box, the handoff sheet's next step and the requests and commitments
are forms of their own pages that the inquiry page also shows. Posted from the
inquiry page they carry ``back=inquiry`` and come back to it, so the agent stays
on the one page that holds the whole inquiry. Any other value is ignored: the
target is always one of the inquiry's own pages, never an address from the form.
"""

from __future__ import annotations

from anshin.web.views_helpers import FormData

INQUIRY_PAGE = "inquiry"


def after_post(form: FormData, reference: str, own_page: str) -> str:
    """The inquiry page when the form came from it, else the form's own page."""
    if form.get("back") == INQUIRY_PAGE:
        return f"/console/inquiries/{reference}"
    return own_page
