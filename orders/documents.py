"""Printable documents as PDF: HTML rendered by WeasyPrint with the machine's fonts.

Chinese text needs a CJK font installed (Debian: fonts-wqy-microhei; the stylesheet names it first).
A document loads local files only (its stylesheet): any http(s) or other address is refused.
"""

from pathlib import Path

from django.contrib.staticfiles import finders
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

STATEMENT_CSS = "orders/statement_pdf.css"


def statement_pdf(html: str) -> bytes:
    """The settlement statement's HTML as PDF bytes."""
    stylesheet = finders.find(STATEMENT_CSS)
    if not isinstance(stylesheet, str):
        raise FileNotFoundError(STATEMENT_CSS)
    fetcher = URLFetcher(allowed_protocols={"file"})
    document = HTML(string=html, base_url=str(Path(stylesheet).parent), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(filename=stylesheet, url_fetcher=fetcher)]) or b""
