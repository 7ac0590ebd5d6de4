"""Official documents (文书): templates render, PDFs carry the right text, nothing leaks.

Needs no system CJK font: the documents use the font shipped in zhijiao/static/fonts. Needs the
Debian packages libharfbuzz-subset0 (fast font subsetting; without it WeasyPrint falls back to
fontTools at 12-20 s a document) and poppler-utils (pdftoppm, pdffonts).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
import subprocess
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest

from zhijiao.documents import (
    DOCUMENT_KINDS,
    chinese_numeral,
    format_cn_date,
    format_number,
    render_catalogue_html,
    render_catalogue_pdf,
    render_html,
    render_pdf,
    sha256_hex,
)
from zhijiao.documents.render import (
    PDF_FONT_NAME,
    TEMPLATE_DIR,
    CatalogueEntry,
    _page_column,
    _pillow_guard,
    html_to_pdf,
    local_url_fetcher,
)
from zhijiao.subjects.idcard import mask_id_number

ID_NUMBER = "370305199001011234"


def make_context(**overrides: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "bureau_name": "淄博市临淄区司法局",
        "seq": 12,
        "doc_date": date(2026, 11, 28),
        "subject_name": "张建国",
        "gender": "male",
        "birth_date": date(1990, 1, 1),
        "id_number": ID_NUMBER,
        "household_address": "山东省淄博市临淄区辛店街道某村",
        "residence": "山东省淄博市临淄区辛店街道某小区",
        "correction_type": "probation",
        "crime": "危险驾驶罪",
        "sentence": "拘役三个月，缓刑六个月，并处罚金人民币五千元",
        "deciding_organ": "淄博市临淄区人民法院",
        "judgment_date": "2026-05-20",
        "judgment_number": "（2026）鲁0305刑初123号",
        "correction_start": date(2026, 6, 1),
        "correction_end": date(2026, 11, 30),
        "office": "临淄区司法局辛店司法所",
        "officer": "李明",
        "place": "临淄区社区矫正中心",
        "team_members": ["辛店司法所工作人员王某", "社区居委会委员赵某", "家属张某"],
        "destination": "山东省济南市历下区",
        "reason": "该社区矫正对象于2026年9月3日至9月8日未经批准擅自离开所居住的县，违反了外出监督管理规定。",
        "leave_start": date(2026, 7, 3),
        "leave_end": date(2026, 7, 5),
        "office_opinion": "情况属实，同意外出。",
        "procuratorate": "淄博市临淄区人民检察院",
        "public_security": "淄博市公安局临淄分局",
        "trigger_label": "无正当理由未经批准离开所居住的市、县",
        "positioning_start": date(2026, 9, 10),
        "positioning_end": date(2026, 12, 9),
    }
    ctx.update(overrides)
    return ctx


def squash(text: str) -> str:
    """PDF text without the line breaks, spaces and letter-spacing gaps extraction inserts."""
    return re.sub(r"[\s\u3000]+", "", text)


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


RENDER_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """Every kind rendered once (the expensive part), shared by the assertions below."""
    out: dict[str, bytes] = {}
    render_pdf("release_certificate", make_context())  # warm-up: fontconfig, first font load
    for kind in DOCUMENT_KINDS:
        started = time.perf_counter()
        out[kind] = render_pdf(kind, make_context())
        RENDER_SECONDS[kind] = time.perf_counter() - started
    print("\nrender seconds:", {k: round(v, 3) for k, v in RENDER_SECONDS.items()})
    return out


# ------------------------------------------------------------------ environment


def test_harfbuzz_subset_is_available() -> None:
    with _pillow_guard():  # importing WeasyPrint loosens Pillow process-wide
        from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None, (
        "HarfBuzz-Subset missing: apt-get install libharfbuzz-subset0 "
        "(the fontTools fallback takes 12-20 s per CJK document)")


# ------------------------------------------------------------------ every kind


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_each_kind_renders_with_name_number_and_basis(kind: str, pdfs: dict[str, bytes]) -> None:
    pdf = pdfs[kind]
    assert pdf.startswith(b"%PDF-")
    text = squash(pdf_text(pdf))
    document_kind = DOCUMENT_KINDS[kind]
    number = format_number(document_kind.number_prefix, 2026, 12)
    assert "张建国" in text
    assert number in text
    assert squash(document_kind.legal_basis) in text
    assert squash(document_kind.title_chinese) in text
    assert "淄博市临淄区司法局" in text
    assert "2026年11月28日" in text
    assert "—1—" in text  # page number


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_pdf_embeds_shipped_font_and_sets_title(kind: str, pdfs: dict[str, bytes]) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdfs[kind]))
    fonts = {str(font.get_object()["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all(PDF_FONT_NAME in f for f in fonts), f"only the shipped font; fonts used: {fonts}"
    assert reader.metadata.title == f"{DOCUMENT_KINDS[kind].title_chinese} {format_number(DOCUMENT_KINDS[kind].number_prefix, 2026, 12)}"
    assert reader.metadata.author == "淄博市临淄区司法局"


def test_pdffonts_lists_the_shipped_cjk_font_embedded(pdfs: dict[str, bytes], tmp_path: Path) -> None:
    """On a machine without any CJK font the PDF still carries its glyphs: an embedded subset
    of the shipped font, and pdftotext reads the subject's name back."""
    pdffonts, pdftotext = shutil.which("pdffonts"), shutil.which("pdftotext")
    assert pdffonts and pdftotext, "pdffonts/pdftotext missing: apt-get install poppler-utils"
    pdf_path = tmp_path / "leave.pdf"
    pdf_path.write_bytes(pdfs["leave_approval_form"])
    listing = subprocess.run([pdffonts, str(pdf_path)], check=True, capture_output=True, text=True,
                             timeout=30).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows, listing
    for row in rows:
        # name type... encoding emb sub uni object ID
        assert PDF_FONT_NAME in row[0] and "+" in row[0], listing
        assert row[-5:-2] == ["yes", "yes", "yes"], listing  # embedded, subset, with a ToUnicode map
    text = subprocess.run([pdftotext, str(pdf_path), "-"], check=True, capture_output=True, text=True,
                          timeout=30).stdout
    assert "张建国" in text.replace(" ", "")
    assert "外出审批表" in squash(text)  # no glyphs mixed up between slices (外 printed as 局)


def test_short_documents_fit_one_page(pdfs: dict[str, bytes]) -> None:
    for kind in ("admonition_decision", "leave_approval_form", "release_certificate", "release_announcement"):
        assert len(pypdf.PdfReader(io.BytesIO(pdfs[kind])).pages) == 1, kind


def test_a4_page_size(pdfs: dict[str, bytes]) -> None:
    box = pypdf.PdfReader(io.BytesIO(pdfs["entry_announcement"])).pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 210
    assert round(float(box.height) / 72 * 25.4) == 297


def test_render_time_is_reasonable(pdfs: dict[str, bytes]) -> None:
    # Generous: about 0.2-0.6 s on a shared 2-core machine; the fontTools fallback is 12-20 s.
    assert max(RENDER_SECONDS.values()) < 8, RENDER_SECONDS


def test_page_one_rasterises_with_ink(pdfs: dict[str, bytes], tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm missing: apt-get install poppler-utils"
    pdf_path = tmp_path / "entry.pdf"
    pdf_path.write_bytes(pdfs["entry_announcement"])
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")],
                   check=True, timeout=30)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 1

    from PIL import Image

    with Image.open(pngs[0]) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 at 50 dpi
        histogram = gray.histogram()
        dark = sum(histogram[:128])
        assert dark > 0.01 * width * height  # text, not a blank page
        # The header (bureau name and title) sits in the top fifth, centred.
        header = gray.crop((width // 4, 0, 3 * width // 4, height // 5))
        assert sum(header.histogram()[:128]) > 200


# ------------------------------------------------------------------ catalogue


def test_catalogue_renders_table() -> None:
    entries = [
        (1, "入矫宣告书", "临司矫宣〔2026〕12号", date(2026, 6, 1), 2),
        (2, "社区矫正告知书", "临司矫告〔2026〕12号", date(2026, 6, 1), 2),
        (3, "训诫决定书", "临司矫训〔2026〕3号", "2026-08-03", 1),
        (4, "调查评估意见书", None, date(2026, 5, 10)),
    ]
    pdf = render_catalogue_pdf("张建国", entries, archive_number="临司矫档〔2026〕12号")
    text = squash(pdf_text(pdf))
    for fragment in ("卷内目录", "张建国", "入矫宣告书", "临司矫训〔2026〕3号", "2026年8月3日",
                     "调查评估意见书", "1-2", "3-4", "临司矫档〔2026〕12号", "淄博市临淄区司法局"):
        assert fragment in text, fragment
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1


def test_catalogue_page_column() -> None:
    rows = [CatalogueEntry(1, "a", None, None, 2), CatalogueEntry(2, "b", None, None, 1),
            CatalogueEntry(3, "c", None, None, "5-9"), CatalogueEntry(4, "d", None, None, 3),
            CatalogueEntry(5, "e", None, None)]
    assert _page_column(rows) == ["1-2", "3", "5-9", "3页", ""]


def test_catalogue_rejects_bad_entries() -> None:
    with pytest.raises(ValueError, match="subject_name"):
        render_catalogue_html("", [])
    with pytest.raises(ValueError, match="entry 1"):
        render_catalogue_html("张建国", [(1, "x")])
    with pytest.raises(ValueError, match="title"):
        render_catalogue_html("张建国", [(1, "", None, None)])


def test_catalogue_escapes_html() -> None:
    html = render_catalogue_html("<b>张</b>", [(1, "<script>x</script>", None, None)])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>张" not in html


# ------------------------------------------------------------------ validation


def test_missing_keys_raise_naming_them() -> None:
    ctx = make_context()
    del ctx["subject_name"]
    ctx["crime"] = "  "
    with pytest.raises(ValueError) as excinfo:
        render_html("warning_decision", ctx)
    message = str(excinfo.value)
    assert "subject_name" in message and "crime" in message and "warning_decision" in message
    assert "reason" not in message


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_every_required_key_is_enforced(kind: str) -> None:
    for key in DOCUMENT_KINDS[kind].required:
        ctx = make_context()
        ctx.pop(key, None)
        if key == "number":
            ctx.pop("seq")
        with pytest.raises(ValueError, match=key):
            render_html(kind, ctx)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown document kind"):
        render_html("pardon", make_context())


def test_bad_date_is_rejected() -> None:
    with pytest.raises(ValueError, match="doc_date"):
        render_html("admonition_decision", make_context(doc_date=12345))
    with pytest.raises(ValueError, match="invalid date"):
        render_html("admonition_decision", make_context(doc_date="2026-02-30"))


def test_revocation_only_for_probation() -> None:
    with pytest.raises(ValueError, match="缓刑"):
        render_html("revocation_proposal", make_context(correction_type="parole"))


def test_context_is_not_mutated() -> None:
    ctx = make_context()
    before = dict(ctx)
    render_html("entry_announcement", ctx, mask_id=True)
    assert ctx == before


# ------------------------------------------------------------------ escaping and content


def test_html_in_context_is_escaped() -> None:
    hostile = '<script>alert("x")</script><img src="http://evil.example/x.png">'
    html = render_html("admonition_decision", make_context(reason=hostile, subject_name="张<b>三</b>"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<img src="http' not in html
    assert "张&lt;b&gt;三" in html


def test_escaped_html_prints_as_text() -> None:
    pdf = render_pdf("admonition_decision", make_context(reason="<script>alert(1)</script>"))
    assert "<script>alert(1)</script>" in pdf_text(pdf)


def test_multiline_reason_becomes_line_breaks() -> None:
    html = render_html("warning_decision", make_context(reason="第一项<违规>；\n第二项违规。"))
    assert "第一项&lt;违规&gt;；<br>第二项违规。" in html


def test_number_given_or_built_from_seq() -> None:
    html = render_html("admonition_decision", make_context(seq=None, number="临司矫训〔2025〕7号"))
    assert "临司矫训〔2025〕7号" in html
    html = render_html("admonition_decision", make_context(seq=3, year=2027, number_prefix="淄临司矫训"))
    assert "淄临司矫训〔2027〕3号" in html


def test_id_number_masked_on_request() -> None:
    full = render_html("release_certificate", make_context())
    masked = render_html("release_certificate", make_context(), mask_id=True)
    assert ID_NUMBER in full
    assert ID_NUMBER not in masked and "370305********1234" in masked


def test_codes_translated_to_chinese() -> None:
    html = render_html("leave_approval_form", make_context(gender="female", correction_type="medical_parole"))
    assert ">女<" in html and "暂予监外执行" in html
    html = render_html("notice_of_obligations", make_context(correction_type="medical_parole"))
    assert "病情复查" in html
    assert "病情复查" not in render_html("notice_of_obligations", make_context())


def test_leave_form_counts_days_and_prints_limits() -> None:
    html = render_html("leave_approval_form", make_context(office_limit_days=5, max_leave_days=20))
    assert "共3日" in html
    assert "五日以内" in html and "不超过二十日" in html


@pytest.mark.parametrize(("ctype", "effect", "article"), [
    ("probation", "原判刑罚不再执行", "第七十六条"),
    ("parole", "原判刑罚视为已经执行完毕", "第八十五条"),
    ("control", "依法解除管制", "第四十条"),
    ("medical_parole", "原判刑罚执行完毕", None),
])
def test_release_effect_by_type(ctype: str, effect: str, article: str | None) -> None:
    for kind in ("release_announcement", "release_certificate"):
        html = render_html(kind, make_context(correction_type=ctype))
        assert effect in html
        assert "《中华人民共和国社区矫正法》第四十四条" in html
        if article:
            assert f"《中华人民共和国刑法》{article}" in html


def test_basis_can_be_overridden() -> None:
    html = render_html("admonition_decision", make_context(basis="《某省社区矫正实施细则》第十条"))
    assert "《某省社区矫正实施细则》第十条" in html
    assert "第三十五条" not in html


def test_judgment_wording_by_type() -> None:
    html = render_html("release_certificate", make_context())
    assert "以（2026）鲁0305刑初123号刑事判决书判处拘役三个月" in html
    html = render_html("release_certificate", make_context(correction_type="parole", sentence="假释考验期限为一年"))
    assert "刑事裁定书裁定假释，假释考验期限为一年" in html


def test_revocation_copies_procuratorate() -> None:
    text = render_html("revocation_proposal", make_context(
        prior_sanctions=["于2026年8月3日受到训诫", "于2026年9月10日受到警告"]))
    assert "抄送：淄博市临淄区人民检察院。" in text
    assert "于2026年8月3日受到训诫；于2026年9月10日受到警告" in text
    assert "建议对社区矫正对象张建国撤销缓刑，执行原判刑罚" in text


# ------------------------------------------------------------------ helpers


def test_format_number() -> None:
    assert format_number("临司矫宣", 2026, 12) == "临司矫宣〔2026〕12号"
    assert format_number("临司矫宣", 2026, 1) == "临司矫宣〔2026〕1号"
    for bad in ((" ", 2026, 1), ("临司矫宣", 26, 1), ("临司矫宣", 2026, 0), ("临司矫宣", 2026, "1"),
                ("临司矫宣", 2026, True)):
        with pytest.raises(ValueError):
            format_number(*bad)


def test_sha256_hex_and_deterministic_output() -> None:
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()
    first = render_pdf("release_certificate", make_context())
    second = render_pdf("release_certificate", make_context())
    assert sha256_hex(first) == sha256_hex(second)


def test_format_cn_date() -> None:
    assert format_cn_date(date(2026, 11, 28)) == "2026年11月28日"
    assert format_cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert format_cn_date("2026-1-5") == "2026年1月5日"
    assert format_cn_date("2026-11-28T09:00:00") == "2026年11月28日"
    # An aware datetime is shown on the Shanghai calendar.
    assert format_cn_date(datetime(2026, 11, 27, 20, 0, tzinfo=UTC)) == "2026年11月28日"
    assert format_cn_date("二〇二六年十一月二十八日") == "二〇二六年十一月二十八日"
    assert format_cn_date(None) == ""


def test_chinese_numeral() -> None:
    assert [chinese_numeral(n) for n in (0, 7, 10, 12, 30, 45, 100, 105, 120)] == [
        "零", "七", "十", "十二", "三十", "四十五", "一百", "一百零五", "一百二十"]


def test_mask_id_number() -> None:
    assert mask_id_number(ID_NUMBER) == "370305********1234"
    assert mask_id_number("12345") == "*****"


# ------------------------------------------------------------------ no network


def test_url_fetcher_refuses_non_local_urls() -> None:
    fetcher = local_url_fetcher()
    for url in ("http://example.com/a.png", "https://10.0.0.1/x.css", "ftp://h/x", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    css = fetcher.fetch((TEMPLATE_DIR / "document.css").as_uri())
    assert b"@page" in css.read()


def test_rendering_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import socket

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access during rendering")

    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    html = ('<html><body><p>x</p><img src="http://evil.example/x.png">'
            '<link rel="stylesheet" href="https://evil.example/x.css"><img src="/etc/hosts"></body></html>')
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert caplog.text.count("refused non-local URL") == 3
