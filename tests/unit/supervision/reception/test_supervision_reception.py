"""Reception (Law Art. 20)."""

from datetime import date

from zhijiao.supervision.reception.rules import REQUIRED_DOCUMENTS, delivery_check

EFFECTIVE = date(2025, 6, 1)
ALL = ["刑事判决书", "执行通知书", "结案登记表"]


def test_notice_within_five_days_documents_within_ten():
    on_time = delivery_check(EFFECTIVE, "probation", notified_on=date(2025, 6, 6),
                             documents_received_on=date(2025, 6, 11), received_documents=ALL, today=date(2025, 7, 1))
    assert on_time.notice_deadline == date(2025, 6, 6) and on_time.documents_deadline == date(2025, 6, 11)
    assert not on_time.notice_late and not on_time.documents_late and on_time.complete
    late = delivery_check(EFFECTIVE, "probation", notified_on=date(2025, 6, 7),
                          documents_received_on=date(2025, 6, 12), received_documents=ALL, today=date(2025, 7, 1))
    assert late.notice_late and late.documents_late


def test_nothing_received_is_late_once_the_day_passes():
    early = delivery_check(EFFECTIVE, "probation", notified_on=None, documents_received_on=None, today=date(2025, 6, 6))
    assert not early.notice_late and not early.documents_late
    assert early.missing_documents == tuple(ALL) and not early.complete
    later = delivery_check(EFFECTIVE, "probation", notified_on=None, documents_received_on=None, today=date(2025, 6, 12))
    assert later.notice_late and later.documents_late


def test_documents_checklist_depends_on_type():
    check = delivery_check(EFFECTIVE, "parole", notified_on=None, documents_received_on=None,
                           received_documents=[" 刑事判决书 ", "执行通知书"], today=EFFECTIVE)
    assert check.missing_documents == ("假释裁定书", "假释证明书副本")
    assert set(REQUIRED_DOCUMENTS) == {"control", "probation", "parole", "medical_parole"}
