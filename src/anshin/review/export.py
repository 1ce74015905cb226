"""A report written out as Markdown, HTML or PDF (R7, R31).

HTML is the one rendering both PDF and the console's download come from: a
stand-alone page (styles inline, charts as inline SVG, no script, no link to
fetch) so it reads the same mailed round, opened from disk or printed.
WeasyPrint lays the PDF out from that HTML with Debian's Noto CJK fonts, so
Japanese renders as text that can be searched and copied. Markdown carries
the charts as SVG data URIs and the tables as pipe tables; every value from
the record is escaped for the format it lands in.
"""

from __future__ import annotations

import base64
import re

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.review.document import Document
from anshin.web.templating import render

FORMATS: tuple[str, ...] = ("md", "html", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def check_format(fmt: str) -> str:
    """Refuse an export format we do not write, naming the ones we do."""
    if fmt not in FORMATS:
        raise InvalidInput(
            N_("Unknown report format: {value}. Choose one of: {choices}."),
            field="format",
            value=fmt,
            choices=", ".join(FORMATS),
        )
    return fmt


def file_name(doc: Document, fmt: str) -> str:
    """``INC-2026-0001-customer-ja.pdf``: the reference, the kind and the language."""
    return f"{doc.reference}-{doc.kind}-{doc.locale}.{fmt}"


def md_escape(text: str) -> str:
    """Text from the record as Markdown that shows it literally (no markup, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_cell(text: str) -> str:
    return md_escape(text).replace("\n", "<br>") if text else " "


def to_markdown(doc: Document) -> str:
    """The report as Markdown: headings, paragraphs, pipe tables, charts as SVG data URIs."""
    lines = [f"# {md_escape(doc.title)}", ""]
    lines += [f"_{md_escape(note)}_" for note in doc.notes]
    for section in doc.sections:
        lines += ["", f"## {md_escape(section.heading)}", ""]
        for paragraph in section.paragraphs:
            lines += ["  \n".join(md_escape(p) for p in paragraph.splitlines()), ""]
        if section.chart:
            data = base64.b64encode(section.chart.encode()).decode()
            lines += [f"![{md_escape(section.heading)}](data:image/svg+xml;base64,{data})", ""]
        if section.header and section.rows:
            lines.append("| " + " | ".join(_md_cell(h) for h in section.header) + " |")
            lines.append("|" + "---|" * len(section.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in section.rows]
    return "\n".join(lines).rstrip() + "\n"


def to_html(doc: Document) -> str:
    """The report as one stand-alone HTML page (autoescaped; charts are our own SVG)."""
    return render("review/report_document.html", {"doc": doc, "locale": doc.locale})


def to_pdf(doc: Document) -> bytes:
    """The report as PDF, laid out by WeasyPrint from :func:`to_html` (A4, Noto CJK)."""
    from weasyprint import HTML  # imported on use: it takes a second to load

    pdf = HTML(string=to_html(doc)).write_pdf()
    assert pdf is not None  # write_pdf returns the bytes when no target is given
    return bytes(pdf)


def write(doc: Document, fmt: str) -> bytes:
    """The report in ``fmt`` (md, html, pdf) as bytes ready to save or send."""
    check_format(fmt)
    if fmt == "pdf":
        return to_pdf(doc)
    return (to_markdown(doc) if fmt == "md" else to_html(doc)).encode()
