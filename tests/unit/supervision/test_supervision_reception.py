"""Reception (Law Art. 20), the correction team (Art. 25), plan dates (Art. 24), handover of files."""

from datetime import date

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.supervision.reception import (
    REQUIRED_DOCUMENTS,
    IntakeSettings,
    TeamMemberFacts,
    check_team,
    delivery_check,
    plan_due,
    plan_review_due,
)
from zhijiao.supervision.transfer import TransferSettings, handover_deadline

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


def test_female_subject_needs_a_female_member():
    men = [TeamMemberFacts("王五", "司法所工作人员", "male"), TeamMemberFacts("赵六", "村（居）委会", None)]
    check_team("male", men)
    with pytest.raises(InvalidInput) as exc:
        check_team("female", men)
    assert exc.value.code == "team_female_member_required" and "第二十五条" in exc.value.message
    check_team("female", [*men, TeamMemberFacts("钱七", "家庭成员", "female")])
    with pytest.raises(InvalidInput) as exc:
        check_team("male", [])
    assert exc.value.code == "team_empty"


def test_plan_dates_are_configurable():
    assert plan_due(date(2025, 6, 1)) == date(2025, 7, 1)
    assert plan_review_due(date(2025, 6, 1)) == date(2025, 8, 30)
    s = IntakeSettings(plan_within_days=15, plan_review_days=30)
    assert plan_due(date(2025, 6, 1), settings=s) == date(2025, 6, 16)
    assert plan_review_due(date(2025, 6, 1), settings=s) == date(2025, 7, 1)


def test_files_handed_over_within_five_days():
    assert handover_deadline(date(2025, 6, 1)) == date(2025, 6, 6)
    assert handover_deadline(date(2025, 6, 1), settings=TransferSettings(handover_days=3)) == date(2025, 6, 4)
