"""Download and build the fonts and the API-docs renderer shipped inside the package.

Reproducible: pinned npm package versions, checked against the registry's SHA-512 integrity.
Run from the repository root with network access (a developer machine, never the server)::

    python tools/vendor_fonts.py            # fonts and Swagger UI
    python tools/vendor_fonts.py --fonts    # fonts only
    python tools/vendor_fonts.py --swagger  # Swagger UI only

What it writes (committed to the repository, shipped in the wheel as package data):

``src/zhijiao/static/fonts/NotoSerifSC-Regular.woff``, ``NotoSerifSC-Bold.woff``
    Noto Serif SC (SIL OFL 1.1) for the official documents (PDF). Google Fonts cuts the font
    into about a hundred ``unicode-range`` slices; WeasyPrint mixes glyphs between slices of
    one family (外出 printed as 局出) and decodes WOFF2 slowly, so each weight's slices are
    merged with fontTools into ONE font, saved as WOFF (zlib, fast to decode). WeasyPrint
    embeds a subset of it in each PDF.
``src/zhijiao/static/fonts/web/``
    Noto Sans SC 400 (SIL OFL 1.1) as the browser's web font: the WOFF2 slices and a
    ``fonts.css`` with their ``unicode-range``s; a browser loads only the slices a page uses.
``src/zhijiao/static/swagger-ui/``
    swagger-ui-dist 5.x (Apache-2.0), which reads OpenAPI 3.1, for ``/docs``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "zhijiao" / "static"
FONTS = STATIC / "fonts"
SWAGGER = STATIC / "swagger-ui"

SERIF = ("@fontsource/noto-serif-sc", "5.3.0")
SANS = ("@fontsource/noto-sans-sc", "5.3.1")
SWAGGER_UI = ("swagger-ui-dist", "5.36.0")

# Slices merged into the PDF fonts, in order (the first slice that maps a code point wins).
EXTRA_SUBSETS = ("latin", "latin-ext", "cyrillic", "vietnamese", "chinese-simplified")
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE")


def fetch_package(name: str, version: str) -> dict[str, bytes]:
    """The files of one npm package version (paths without the leading ``package/``)."""
    with urllib.request.urlopen(f"{REGISTRY}/{name.replace('/', '%2F')}/{version}", timeout=60) as r:
        meta = json.load(r)
    dist = meta["dist"]
    print(f"downloading {name}@{version} ({dist['tarball']})", file=sys.stderr)
    with urllib.request.urlopen(dist["tarball"], timeout=600) as r:
        data = r.read()
    algo, _, expected = dist["integrity"].partition("-")
    if algo != "sha512" or base64.b64decode(expected) != hashlib.sha512(data).digest():
        raise SystemExit(f"{name}@{version}: integrity check failed")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                extracted = tar.extractfile(member)
                assert extracted is not None
                files[member.name.removeprefix("package/")] = extracted.read()
    return files


def _slice_order(name: str) -> tuple[int, int, str]:
    m = re.search(r"-(\d+)-\d00-normal\.woff$", name)
    if m:
        return (0, int(m[1]), name)
    for i, subset in enumerate(EXTRA_SUBSETS):
        if f"-{subset}-" in name:
            return (1, i, name)
    return (2, 0, name)


def merge_weight(files: dict[str, bytes], family: str, weight: int, style_name: str) -> bytes:
    """One WOFF font from all the ``unicode-range`` slices of one weight."""
    from fontTools.merge import Merger, Options
    from fontTools.subset import Options as SubsetOptions
    from fontTools.subset import Subsetter
    from fontTools.ttLib import TTFont

    pattern = re.compile(rf"^files/{family}-(\d+|{'|'.join(EXTRA_SUBSETS)})-{weight}-normal\.woff$")
    names = sorted((n for n in files if pattern.match(n)), key=_slice_order)
    if not names:
        raise SystemExit(f"no slices for {family} {weight}")
    slices = []
    seen: set[int] = set()
    for name in names:
        font = TTFont(io.BytesIO(files[name]))
        # Horizontal text only: the layout tables differ per slice and are not needed.
        for tag in ("GSUB", "GPOS", "STAT", "vhea", "vmtx"):
            if tag in font:
                del font[tag]
        cmap = set(font.getBestCmap())
        new = cmap - seen
        if not new:
            continue
        if new != cmap:  # slices overlap a little: keep each code point's first glyph only
            subsetter = Subsetter(SubsetOptions(notdef_outline=True, name_IDs=["*"], name_languages=["*"],
                                                glyph_names=True, layout_features=[]))
            subsetter.populate(unicodes=new)
            subsetter.subset(font)
        seen |= new
        font.flavor = None
        buf = io.BytesIO()
        font.save(buf)
        buf.seek(0)
        slices.append(buf)
    merged = Merger(Options(drop_tables=["vhea", "vmtx"])).merge(slices)
    # Name the merged font after its weight (the slices all say "Regular").
    ps_name = f"NotoSerifSC-{style_name}"
    name_table = merged["name"]
    for record in list(name_table.names):
        if record.nameID in (1, 16):
            name_table.setName("Noto Serif SC", record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (2, 17):
            name_table.setName(style_name, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            name_table.setName(f"Noto Serif SC {style_name}", 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            name_table.setName(ps_name, 6, record.platformID, record.platEncID, record.langID)
    merged["OS/2"].usWeightClass = weight
    if weight >= 700:
        merged["OS/2"].fsSelection = (merged["OS/2"].fsSelection | 0x20) & ~0x40
        merged["head"].macStyle |= 0x1
    merged.flavor = "woff"
    out = io.BytesIO()
    merged.save(out)
    print(f"  {ps_name}: {len(slices)} of {len(names)} slices, {len(merged.getBestCmap())} code points, "
          f"{out.tell() / 1e6:.1f} MB", file=sys.stderr)
    return out.getvalue()


def build_fonts() -> None:
    serif = fetch_package(*SERIF)
    sans = fetch_package(*SANS)
    if FONTS.exists():
        shutil.rmtree(FONTS)
    (FONTS / "web").mkdir(parents=True)
    (FONTS / "NotoSerifSC-Regular.woff").write_bytes(merge_weight(serif, "noto-serif-sc", 400, "Regular"))
    (FONTS / "NotoSerifSC-Bold.woff").write_bytes(merge_weight(serif, "noto-serif-sc", 700, "Bold"))

    # Web font: the WOFF2 slices of Noto Sans SC 400 and their @font-face rules.
    css = sans["400.css"].decode()
    used: list[str] = []

    def relink(m: re.Match[str]) -> str:
        used.append(m[1])
        return f"url({m[1]}) format('woff2')"

    css = re.sub(r"url\(\./files/([\w.-]+\.woff2)\) format\('woff2'\)(?:, url\(\./files/[\w.-]+\.woff\) format\('woff'\))?",
                 relink, css)
    if not used or "./files/" in css:
        raise SystemExit("unexpected layout of 400.css in " + SANS[0])
    for name in used:
        (FONTS / "web" / name).write_bytes(sans[f"files/{name}"])
    header = (f"/* Noto Sans SC 400 from {SANS[0]}@{SANS[1]} (SIL Open Font License 1.1, see ../OFL.txt).\n"
              "   Generated by tools/vendor_fonts.py; do not edit. */\n")
    (FONTS / "web" / "fonts.css").write_text(header + css, encoding="utf-8")
    (FONTS / "OFL.txt").write_bytes(serif["LICENSE"])
    (FONTS / "README.md").write_text(
        "# Shipped fonts\n\n"
        "Built by `tools/vendor_fonts.py` from the npm packages "
        f"`{SERIF[0]}@{SERIF[1]}` and `{SANS[0]}@{SANS[1]}` (Fontsource packaging of Google's\n"
        "Noto Serif SC and Noto Sans SC). Licence: SIL Open Font License 1.1, text in `OFL.txt`\n"
        "(Copyright Google Inc.; Noto is a trademark of Google Inc.).\n\n"
        "- `NotoSerifSC-Regular.woff`, `NotoSerifSC-Bold.woff`: each weight's unicode-range slices merged\n"
        "  into one font, for the official documents (WeasyPrint embeds a subset in each PDF).\n"
        "- `web/`: Noto Sans SC 400 as WOFF2 slices and `fonts.css`, the browser's web font.\n",
        encoding="utf-8")


def build_swagger() -> None:
    files = fetch_package(*SWAGGER_UI)
    if SWAGGER.exists():
        shutil.rmtree(SWAGGER)
    SWAGGER.mkdir(parents=True)
    for name in SWAGGER_FILES:
        if name in files:
            (SWAGGER / name).write_bytes(files[name])
    (SWAGGER / "VERSION").write_text(f"{SWAGGER_UI[0]}@{SWAGGER_UI[1]}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fonts", action="store_true", help="fonts only")
    parser.add_argument("--swagger", action="store_true", help="Swagger UI only")
    args = parser.parse_args()
    both = not (args.fonts or args.swagger)
    if args.fonts or both:
        build_fonts()
    if args.swagger or both:
        build_swagger()


if __name__ == "__main__":
    main()
