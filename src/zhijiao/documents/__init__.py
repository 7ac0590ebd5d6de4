"""Official documents (文书) of community corrections, rendered from HTML templates to PDF.

Pure rendering (no database, no network); see :mod:`zhijiao.documents.render`.
"""

from zhijiao.documents.render import (
    DOCUMENT_KINDS,
    CatalogueEntry,
    DocumentKind,
    chinese_numeral,
    format_cn_date,
    format_number,
    get_kind,
    render_catalogue_html,
    render_catalogue_pdf,
    render_html,
    render_pdf,
    sha256_hex,
)

__all__ = [
    "DOCUMENT_KINDS",
    "CatalogueEntry",
    "DocumentKind",
    "chinese_numeral",
    "format_cn_date",
    "format_number",
    "get_kind",
    "render_catalogue_html",
    "render_catalogue_pdf",
    "render_html",
    "render_pdf",
    "sha256_hex",
]
