"""Official documents (文书) of community corrections: HTML templates rendered to PDF.

Pure rendering: a plain ``dict`` context in, HTML text or PDF bytes out. No database, no
network. The service layer chooses the number, stores the bytes and their SHA-256.

Context keys shared by most documents (values are ``str`` unless noted)::

    bureau_name        发文机关, e.g. "淄博市临淄区司法局"
    number             文号, e.g. "临司矫宣〔2026〕12号"; or give ``seq`` (int) and optionally
                       ``year`` (int, default: year of ``doc_date``) and ``number_prefix``
                       (default: the kind's prefix) and the number is built for you
    doc_date           成文日期 (date, datetime or ISO string) -> "2026年11月28日"
    subject_name       社区矫正对象姓名
    gender             "男"/"女" (or "male"/"female")
    id_number          身份证号码 (printed in full unless ``mask_id=True``)
    correction_type    "管制"/"缓刑"/"假释"/"暂予监外执行" (or the codes control/probation/
                       parole/medical_parole)
    crime              罪名, e.g. "危险驾驶罪" (the templates write "因犯{crime}")
    sentence           what follows the verb of the decision: 管制/缓刑 "判处{sentence}", e.g.
                       "拘役三个月，缓刑六个月"; 假释 "裁定假释，{sentence}", e.g. "假释考验期限
                       为一年"; 暂予监外执行 "决定对其暂予监外执行，{sentence}". Override the verb
                       with ``decision_verb``.
    deciding_organ     决定机关, e.g. "淄博市临淄区人民法院"
    judgment_date      判决/裁定/决定日期 (date)
    correction_start / correction_end   社区矫正期限起止 (date)

Optional everywhere: ``birth_date``, ``household_address`` (户籍地), ``residence`` (居住地),
``judgment_number`` (判决书字号; printed "以{judgment_number}刑事判决书", the instrument
name following the type unless ``judgment_document`` is given), ``office`` (司法所), ``officer``, ``basis`` (overrides the
kind's legal basis text), ``cc`` (list of 抄送 organs). Each :class:`DocumentKind` lists its own
required keys; the templates document their optional ones.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup
from PIL import ImageFile

from zhijiao.core import clock
from zhijiao.core.assets import FONT_DIR, PDF_FONT_FILES, PDF_FONT_NAME  # noqa: F401 (re-exported)
from zhijiao.subjects import idcard

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

DEFAULT_BUREAU_NAME = "淄博市临淄区司法局"

LAW = "《中华人民共和国社区矫正法》"
MEASURES = "《中华人民共和国社区矫正法实施办法》"
CRIMINAL_LAW = "《中华人民共和国刑法》"

CORRECTION_TYPES: dict[str, str] = {
    "control": "管制",
    "probation": "缓刑",
    "parole": "假释",
    "medical_parole": "暂予监外执行",
}

GENDERS: dict[str, str] = {"male": "男", "female": "女", "m": "男", "f": "女"}

# What the end of the term means, by correction type (刑法第四十条、第七十六条、第八十五条).
RELEASE_EFFECTS: dict[str, tuple[str, str]] = {
    "管制": ("管制期满，依法解除管制", f"{CRIMINAL_LAW}第四十条"),
    "缓刑": ("缓刑考验期满，原判刑罚不再执行", f"{CRIMINAL_LAW}第七十六条"),
    "假释": ("假释考验期满，原判刑罚视为已经执行完毕", f"{CRIMINAL_LAW}第八十五条"),
    "暂予监外执行": ("刑期届满，原判刑罚执行完毕", ""),
}

SUBJECT_KEYS: tuple[str, ...] = (
    "subject_name",
    "gender",
    "id_number",
    "correction_type",
    "crime",
    "sentence",
    "deciding_organ",
    "judgment_date",
    "correction_start",
    "correction_end",
)
DOCUMENT_KEYS: tuple[str, ...] = ("bureau_name", "number", "doc_date")


@dataclass(frozen=True)
class DocumentKind:
    """One kind of official document."""

    kind: str
    title_chinese: str
    template: str
    number_prefix: str
    required: tuple[str, ...]
    legal_basis: str

    def basis_for(self, context: Mapping[str, Any]) -> str:
        """The legal basis printed on the document; ``context['basis']`` overrides it."""
        if context.get("basis"):
            return str(context["basis"])
        if self.kind in ("release_announcement", "release_certificate"):
            extra = RELEASE_EFFECTS.get(str(context.get("correction_type", "")), ("", ""))[1]
            if extra:
                return f"{self.legal_basis}、{extra}"
        return self.legal_basis


def _kind(kind: str, title: str, prefix: str, extra: tuple[str, ...], basis: str,
          subject: tuple[str, ...] = SUBJECT_KEYS) -> DocumentKind:
    return DocumentKind(kind, title, f"{kind}.html", prefix, DOCUMENT_KEYS + subject + extra, basis)


_LEAVE_SUBJECT = ("subject_name", "gender", "id_number", "correction_type",
                  "correction_start", "correction_end")

# Article numbers of the Measures (实施办法) below: 第三十五条 训诫, 第三十六条 警告, 第四十六条 撤销缓刑
# 建议. Other documents cite the Law only. A bureau's legal staff may override with ``basis``.
DOCUMENT_KINDS: dict[str, DocumentKind] = {
    k.kind: k
    for k in (
        _kind("entry_announcement", "入矫宣告书", "临司矫宣", ("office",),
              f"{LAW}第二十二条"),
        _kind("notice_of_obligations", "社区矫正告知书", "临司矫告", ("office",),
              f"{LAW}第四条、第二十三条、第二十六条、第二十七条、第二十八条",
              subject=_LEAVE_SUBJECT),
        _kind("leave_approval_form", "社区矫正对象外出审批表", "临司矫外",
              ("office", "destination", "reason", "leave_start", "leave_end"),
              f"{LAW}第二十七条", subject=_LEAVE_SUBJECT),
        _kind("admonition_decision", "训诫决定书", "临司矫训", ("reason",),
              f"{LAW}第二十八条、{MEASURES}第三十五条"),
        _kind("warning_decision", "警告决定书", "临司矫警", ("reason",),
              f"{LAW}第二十八条、{MEASURES}第三十六条"),
        _kind("positioning_decision", "使用电子定位装置决定书", "临司矫定",
              ("reason", "trigger_label", "positioning_start", "positioning_end"),
              f"{LAW}第二十九条"),
        _kind("revocation_proposal", "提请撤销缓刑建议书", "临司矫撤",
              ("reason", "procuratorate"),
              f"{CRIMINAL_LAW}第七十七条第二款、{LAW}第四十六条、{MEASURES}第四十六条"),
        _kind("release_announcement", "解除社区矫正宣告书", "临司矫解", ("office",),
              f"{LAW}第四十四条"),
        _kind("release_certificate", "解除社区矫正证明书", "临司矫证", (),
              f"{LAW}第四十四条"),
    )
}


# ---------------------------------------------------------------- small helpers


def format_number(prefix: str, year: int, seq: int) -> str:
    """文号 in the GB/T 9704 form: ``format_number('临司矫宣', 2026, 12) -> '临司矫宣〔2026〕12号'``.

    The year is in 六角括号 〔〕 and the sequence has no leading zeros.
    """
    if not prefix or not str(prefix).strip():
        raise ValueError("文号前缀不能为空 (number prefix is empty)")
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise ValueError(f"年份须为四位整数 (year must be a 4-digit int): {year!r}")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"序号须为正整数 (seq must be a positive int): {seq!r}")
    return f"{prefix.strip()}〔{year}〕{seq}号"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (stored next to each generated PDF)."""
    return hashlib.sha256(data).hexdigest()


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])")


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return clock.to_local(value).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and (m := _ISO_DATE.match(value.strip())):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise ValueError(f"无效日期 (invalid date): {value!r}") from None
    return None


def format_cn_date(value: Any) -> str:
    """``date(2026, 11, 28) -> '2026年11月28日'`` (GB/T 9704: Arabic numerals, no zero padding).

    Accepts ``date``, ``datetime`` (aware ones are shown in Asia/Shanghai), ISO strings; any
    other non-empty string is returned unchanged (e.g. an already formatted date). ``None`` and
    ``""`` give ``""``.
    """
    if value is None or value == "":
        return ""
    d = _as_date(value)
    if d is None:
        if isinstance(value, str):
            return value
        raise ValueError(f"无法识别的日期 (unrecognised date): {value!r}")
    return f"{d.year}年{d.month}月{d.day}日"


_DIGITS = "零一二三四五六七八九"


def chinese_numeral(value: Any) -> str:
    """Small counts in Chinese numerals as official text writes them: 7 -> 七, 30 -> 三十,
    12 -> 十二, 105 -> 一百零五. Values from 0 to 999; anything else is returned as ``str``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 999:
        return str(value)
    if value < 10:
        return _DIGITS[value]
    hundreds, rest = divmod(value, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _DIGITS[hundreds] + "百"
        if rest and tens == 0:
            return out + "零" + _DIGITS[ones]
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if ones:
        out += _DIGITS[ones]
    return out


def _days_inclusive(start: Any, end: Any) -> int | None:
    s, e = _as_date(start), _as_date(end)
    if s is None or e is None:
        return None
    return (e - s).days + 1


# ---------------------------------------------------------------- Jinja environment

_env_lock = threading.Lock()
_env: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _env
    with _env_lock:
        if _env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                autoescape=True,  # every template, including the CSS include, escapes values
                undefined=jinja2.ChainableUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            env.filters["cn_date"] = format_cn_date
            env.filters["br"] = _nl2br
            env.filters["cn_count"] = chinese_numeral
            env.globals["RELEASE_EFFECTS"] = RELEASE_EFFECTS
            _env = env
    return _env


def _nl2br(value: Any) -> Markup:
    """Escape, then turn newlines into ``<br>`` (for multi-line facts and opinions)."""
    escaped = Markup.escape("" if value is None else str(value))
    return Markup("<br>").join(escaped.split("\n"))


# ---------------------------------------------------------------- context


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _prepare(kind: DocumentKind, context: Mapping[str, Any], mask_id: bool) -> dict[str, Any]:
    if not isinstance(context, Mapping):
        raise ValueError(f"context must be a mapping, got {type(context).__name__}")
    ctx: dict[str, Any] = dict(context)

    if _missing(ctx.get("number")) and not _missing(ctx.get("seq")):
        d = _as_date(ctx.get("doc_date"))
        year = ctx.get("year") or (d.year if d else None)
        if year is None:
            raise ValueError(f"{kind.kind}: 'year' (or a valid 'doc_date') is needed to build the number")
        ctx["number"] = format_number(ctx.get("number_prefix") or kind.number_prefix, year, ctx["seq"])

    missing = [key for key in kind.required if _missing(ctx.get(key))]
    if missing:
        raise ValueError(f"{kind.kind} ({kind.title_chinese}): missing context keys: {', '.join(missing)}")

    for key in ("doc_date", "judgment_date", "correction_start", "correction_end",
                "leave_start", "leave_end", "birth_date"):
        value = ctx.get(key)
        if not _missing(value) and not isinstance(value, str) and _as_date(value) is None:
            raise ValueError(f"{kind.kind}: {key} is not a date: {value!r}")

    ctype = str(ctx.get("correction_type", ""))
    ctx["correction_type"] = CORRECTION_TYPES.get(ctype, ctype)
    if kind.kind == "revocation_proposal" and ctx["correction_type"] != "缓刑":
        raise ValueError(
            f"revocation_proposal ({kind.title_chinese}) applies to 缓刑 only, "
            f"not {ctx['correction_type']!r}")
    gender = str(ctx.get("gender", ""))
    ctx["gender"] = GENDERS.get(gender.lower(), gender)
    if mask_id and ctx.get("id_number"):
        ctx["id_number"] = idcard.mask_id_number(str(ctx["id_number"]), normalise=False)
    for key in ("cc", "team_members", "prior_sanctions", "attachments"):
        value = ctx.get(key)
        if isinstance(value, str):
            ctx[key] = [value] if value.strip() else []

    ctx["kind"] = kind.kind
    ctx["title"] = kind.title_chinese
    ctx["basis"] = kind.basis_for(ctx)
    ctx["release_effect"] = RELEASE_EFFECTS.get(ctx["correction_type"], ("社区矫正期满", ""))[0]
    ctx["leave_days"] = _days_inclusive(ctx.get("leave_start"), ctx.get("leave_end"))
    return ctx


def get_kind(kind: str) -> DocumentKind:
    try:
        return DOCUMENT_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}; known: {', '.join(DOCUMENT_KINDS)}") from None


def render_html(kind: str, context: Mapping[str, Any], *, mask_id: bool = False) -> str:
    """Render one document to a self-contained HTML string (CSS inlined, no external URLs).

    Raises ``ValueError`` for an unknown kind or when required context keys are missing
    (the message names them). ``mask_id`` prints the ID number as ``370305********1234``.
    """
    document_kind = get_kind(kind)
    ctx = _prepare(document_kind, context, mask_id)
    return _environment().get_template(document_kind.template).render(ctx)


@functools.cache
def template_version() -> str:
    """A short digest of what shapes a PDF besides its context: the templates, their CSS and the
    shipped fonts. Stored with each document; a change means a re-rendering may look different."""
    digest = hashlib.sha256()
    files = sorted(TEMPLATE_DIR.glob("*.*")) + [FONT_DIR / name for name in PDF_FONT_FILES]
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:12]


def render_pdf(kind: str, context: Mapping[str, Any], *, mask_id: bool = False) -> bytes:
    """Render one document to PDF bytes (A4, embedded subsets of the shipped Noto Serif SC, page numbers)."""
    return html_to_pdf(render_html(kind, context, mask_id=mask_id))


# ---------------------------------------------------------------- catalogue (卷内目录)


class CatalogueEntry(NamedTuple):
    seq: int
    title: str
    number: str | None
    date: Any
    pages: int | str | None = None


def _page_column(entries: Sequence[CatalogueEntry]) -> list[str]:
    """页号: an int page count becomes a running range ("1-3", "4"); a string is kept as given.

    After an entry without a page count the running range is unknown, so later int counts
    are shown as counts ("3页").
    """
    out: list[str] = []
    next_page: int | None = 1
    for entry in entries:
        pages = entry.pages
        if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0:
            if next_page is None:
                out.append(f"{pages}页")
            else:
                end = next_page + pages - 1
                out.append(str(next_page) if end == next_page else f"{next_page}-{end}")
                next_page = end + 1
        else:
            out.append("" if pages is None else str(pages))
            next_page = None
    return out


def render_catalogue_html(
    subject_name: str,
    entries: Iterable[Sequence[Any]],
    *,
    bureau_name: str = DEFAULT_BUREAU_NAME,
    archive_title: str = "社区矫正执行档案",
    archive_number: str | None = None,
) -> str:
    """The archive catalogue (卷内目录) as HTML. ``entries``: ``(seq, title, number, date[, pages])``."""
    if _missing(subject_name):
        raise ValueError("catalogue: missing subject_name")
    rows: list[CatalogueEntry] = []
    for i, raw in enumerate(entries, 1):
        if isinstance(raw, Mapping):
            rows.append(CatalogueEntry(**raw))
            continue
        if not 4 <= len(raw) <= 5:
            raise ValueError(f"catalogue entry {i}: expected (seq, title, number, date[, pages]), got {raw!r}")
        rows.append(CatalogueEntry(*raw))
    for row in rows:
        if _missing(row.title):
            raise ValueError(f"catalogue entry {row.seq}: missing title")
    ctx = {
        "title": "卷内目录",
        "subject_name": subject_name,
        "bureau_name": bureau_name,
        "archive_title": archive_title,
        "archive_number": archive_number,
        "rows": list(zip(rows, _page_column(rows), strict=True)),
    }
    return _environment().get_template("catalogue.html").render(ctx)


def render_catalogue_pdf(
    subject_name: str,
    entries: Iterable[Sequence[Any]],
    *,
    bureau_name: str = DEFAULT_BUREAU_NAME,
    archive_title: str = "社区矫正执行档案",
    archive_number: str | None = None,
) -> bytes:
    """The archive catalogue (卷内目录) as PDF bytes."""
    return html_to_pdf(render_catalogue_html(
        subject_name, entries, bureau_name=bureau_name,
        archive_title=archive_title, archive_number=archive_number))


# ---------------------------------------------------------------- WeasyPrint

_weasy_lock = threading.Lock()
_font_config: Any = None


def _font_configuration() -> Any:
    """One WeasyPrint ``FontConfiguration`` per process (fontconfig setup is costly)."""
    global _font_config
    with _weasy_lock:
        if _font_config is None:
            from weasyprint.text.fonts import FontConfiguration

            _font_config = FontConfiguration()
    return _font_config


def _local_url_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyURLFetcher(URLFetcher):
        """Serves ``data:`` URLs and files under the template and font directories; refuses the rest.

        Documents must never reach the network (the server sits in a closed network and a
        context value must not be able to make it fetch anything).
        """

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if (path.is_relative_to(TEMPLATE_DIR) or path.is_relative_to(FONT_DIR)) and path.is_file():
                    return URLFetcherResponse(path.as_uri(), path.read_bytes())
            raise ValueError(f"refused non-local URL in document: {url[:200]}")

    return LocalOnlyURLFetcher


_fetcher_class: type | None = None
_render_lock = threading.Lock()


def local_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that refuses every non-local URL."""
    global _fetcher_class
    if _fetcher_class is None:
        _fetcher_class = _local_url_fetcher_class()
    return _fetcher_class()


@contextlib.contextmanager
def _pillow_guard() -> Iterator[None]:
    """Importing WeasyPrint sets Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES = True``,
    which would make every later image check in the process (check-in photos) accept truncated
    files. Put the flag back after each render."""
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def html_to_pdf(html: str) -> bytes:
    """Render HTML produced by this module to PDF bytes, offline.

    Output is deterministic for the same HTML (no creation date is written), so the
    SHA-256 of a re-rendered document matches the stored one.
    """
    with _pillow_guard():
        from weasyprint import HTML

        font_config = _font_configuration()
        # Pango font maps are not thread-safe and the font configuration is shared: one render
        # at a time per process.
        with _render_lock:
            document = HTML(string=html, base_url=TEMPLATE_DIR.as_uri() + "/", url_fetcher=local_url_fetcher())
            return document.write_pdf(font_config=font_config)
