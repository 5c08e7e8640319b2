"""Rendering a `Document`: one HTML file (self-contained: inline CSS, charts as data:
images) and the PDF made from that same HTML with WeasyPrint.

The PDF adds what paper needs: the report's title, subject and generation time in
each page's header, page numbers in the footer, and, on the last page, the SHA-256 of
the HTML file it was made from (so a printed copy can be matched to the file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import weasyprint
from django.template.loader import render_to_string
from django.utils import timezone

from opsportal.reports.document import Document

PDF_MARKER = "<!--pdf-last-page-->"


@dataclass(frozen=True)
class Rendered:
    html: bytes
    html_sha256: str
    pdf: bytes


def render_html(document: Document, *, generated_at: dt.datetime, report_id: int) -> str:
    return render_to_string(
        "reports/document.html",
        {
            "document": document,
            "generated_at": generated_at,
            "report_id": report_id,
            "pdf_marker": PDF_MARKER,
        },
    )


def render_pdf(html: str, *, html_sha256: str, generated_at: dt.datetime) -> bytes:
    last_page = render_to_string(
        "reports/_pdf_last_page.html", {"html_sha256": html_sha256, "generated_at": generated_at}
    )
    # base_url: nothing external is referenced; a fixed one keeps WeasyPrint from
    # resolving relative URLs against the working directory.
    pdf: bytes = weasyprint.HTML(
        string=html.replace(PDF_MARKER, last_page, 1), base_url="about:blank"
    ).write_pdf()
    return pdf


def render(
    document: Document, *, report_id: int, generated_at: dt.datetime | None = None
) -> Rendered:
    generated_at = generated_at or timezone.now()
    html = render_html(document, generated_at=generated_at, report_id=report_id)
    html_bytes = html.encode("utf-8")
    digest = hashlib.sha256(html_bytes).hexdigest()
    pdf = render_pdf(html, html_sha256=digest, generated_at=generated_at)
    return Rendered(html=html_bytes, html_sha256=digest, pdf=pdf)
