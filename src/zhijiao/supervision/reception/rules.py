"""Reception (交付接收). Pure code: no database.

社区矫正法 第二十条: the deciding organ notifies the executing agency within 5 days of the ruling
taking effect and delivers the legal documents within 10 days. 第二十二条: the agency checks the
documents on reception.

The 5 and 10 days are statutory. The document checklist is the common practice of the provinces
(实施办法 第十六条、第十七条).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from zhijiao.subjects.rules import CorrectionType

NOTICE_WITHIN_DAYS = 5  # 社区矫正法 第二十条 (statutory)
DOCUMENTS_WITHIN_DAYS = 10  # 社区矫正法 第二十条 (statutory)

LEGAL_BASIS = {
    "delivery": "《社区矫正法》第二十条：判决、裁定生效之日起五日内通知执行地社区矫正机构，十日内送达有关法律文书",
    "reception": "《社区矫正法》第二十二条：核对法律文书、核实身份、办理接收登记、建立档案",
}

# The documents the deciding organ delivers, by correction type (实施办法 第十六条、第十七条; practice).
REQUIRED_DOCUMENTS: dict[CorrectionType, tuple[str, ...]] = {
    CorrectionType.control: ("刑事判决书", "执行通知书", "结案登记表"),
    CorrectionType.probation: ("刑事判决书", "执行通知书", "结案登记表"),
    CorrectionType.parole: ("刑事判决书", "假释裁定书", "执行通知书", "假释证明书副本"),
    CorrectionType.medical_parole: ("刑事判决书", "暂予监外执行决定书", "病情诊断或检查鉴别材料"),
}


# --- 交付 (Law Art. 20) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryCheck:
    notice_deadline: date
    documents_deadline: date
    notice_late: bool  # the notice came after the 5th day, or has not come and the 5th day passed
    documents_late: bool
    missing_documents: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_documents


def delivery_check(
    judgment_effective_date: date,
    correction_type: CorrectionType | str,
    *,
    notified_on: date | None,
    documents_received_on: date | None,
    received_documents: Iterable[str] = (),
    today: date,
) -> DeliveryCheck:
    """The Art. 20 checks of a reception: late notice, late documents, documents missing.

    The day the ruling takes effect is not counted (刑事诉讼法 第一百零五条).
    """
    notice_deadline = judgment_effective_date + timedelta(days=NOTICE_WITHIN_DAYS)
    documents_deadline = judgment_effective_date + timedelta(days=DOCUMENTS_WITHIN_DAYS)
    received = {name.strip() for name in received_documents}
    missing = tuple(d for d in REQUIRED_DOCUMENTS[CorrectionType(correction_type)] if d not in received)
    return DeliveryCheck(
        notice_deadline=notice_deadline,
        documents_deadline=documents_deadline,
        notice_late=(notified_on or today) > notice_deadline,
        documents_late=(documents_received_on or today) > documents_deadline,
        missing_documents=missing,
    )
