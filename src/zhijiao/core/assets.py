"""Files shipped inside the package for the browser and the documents: fonts and the API docs UI.

Nothing here depends on the machine: Chinese text renders without any system CJK font, because
the fonts (Noto Serif SC and Noto Sans SC, SIL OFL 1.1) come with the package, built by
``tools/vendor_fonts.py``. The web font is served under a URL that carries a digest of its
stylesheet, so browsers may cache it for a year (a new build gives a new URL).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
FONT_DIR = STATIC_DIR / "fonts"
WEB_FONT_DIR = FONT_DIR / "web"
SWAGGER_UI_DIR = STATIC_DIR / "swagger-ui"

#: The documents' fonts (one merged file per weight), loaded by documents/templates/document.css.
PDF_FONT_FILES: tuple[str, ...] = ("NotoSerifSC-Regular.woff", "NotoSerifSC-Bold.woff")
#: The family the documents give the shipped serif; a PDF names it "<tag>+Zhijiao-Serif-SC[-Bold]".
PDF_FONT_FAMILY = "Zhijiao Serif SC"
PDF_FONT_NAME = "Zhijiao-Serif-SC"
#: The browser's web font family (fonts.css).
WEB_FONT_FAMILY = "Noto Sans SC"
WEB_FONT_PREFIX = "/assets/fonts"
#: The UI's font stack: the web font after the fonts a machine may have, so a machine with a
#: local CJK font downloads nothing, and one without gets the shipped font.
FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
              f'"WenQuanYi Micro Hei", "{WEB_FONT_FAMILY}", sans-serif')
SWAGGER_UI_FILES: tuple[str, ...] = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def missing_font_files() -> list[str]:
    """The shipped font files that are absent or empty (paths relative to the package)."""
    wanted = [FONT_DIR / name for name in PDF_FONT_FILES] + [WEB_FONT_DIR / "fonts.css"]
    missing = [p for p in wanted if not p.is_file() or p.stat().st_size == 0]
    if not missing and not any(WEB_FONT_DIR.glob("*.woff2")):
        missing.append(WEB_FONT_DIR / "*.woff2")
    return [str(p.relative_to(STATIC_DIR.parent)) if p.is_relative_to(STATIC_DIR.parent) else str(p) for p in missing]


@cache
def web_font_version() -> str:
    """A short digest of the web font's stylesheet: the versioned part of its URL."""
    css = WEB_FONT_DIR / "fonts.css"
    data = css.read_bytes() if css.is_file() else b"missing"
    return hashlib.sha256(data).hexdigest()[:12]


def web_font_css_url() -> str:
    return f"{WEB_FONT_PREFIX}/{web_font_version()}/fonts.css"


def web_font_link() -> str:
    """The ``<link>`` every page puts in its head."""
    return f'<link rel="stylesheet" href="{web_font_css_url()}">'
