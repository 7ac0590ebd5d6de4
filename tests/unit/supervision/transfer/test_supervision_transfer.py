"""Transfer deadlines and notifications (社区矫正法 第二十七条; 实施办法 第三十条、第三十一条), handover of files."""

from datetime import date

import pytest
from pydantic import ValidationError

from zhijiao.supervision.notices.rules import Body
from zhijiao.supervision.transfer.rules import (
    TransferSettings,
    consult_reply_deadline,
    handover_deadline,
    is_consult_reply_overdue,
    is_new_place_report_overdue,
    new_place_report_deadline,
    transfer_notifications,
)

# --- transfer (执行地变更) ------------------------------------------------------------------------


def test_consult_reply_within_five_days():
    assert consult_reply_deadline(date(2025, 6, 1)) == date(2025, 6, 6)
    assert not is_consult_reply_overdue(date(2025, 6, 1), replied_on=date(2025, 6, 6))
    assert is_consult_reply_overdue(date(2025, 6, 1), replied_on=date(2025, 6, 7))
    assert is_consult_reply_overdue(date(2025, 6, 1), today=date(2025, 6, 7))
    assert not is_consult_reply_overdue(date(2025, 6, 1), today=date(2025, 6, 6))


def test_report_at_new_place_within_seven_days():
    assert new_place_report_deadline(date(2025, 6, 1)) == date(2025, 6, 8)
    assert not is_new_place_report_overdue(date(2025, 6, 1), reported_on=date(2025, 6, 8))
    assert is_new_place_report_overdue(date(2025, 6, 1), reported_on=date(2025, 6, 9))
    assert is_new_place_report_overdue(date(2025, 6, 1), today=date(2025, 6, 9))


def test_transfer_settings_are_configurable():
    s = TransferSettings(consult_reply_days=3, report_days=10)
    assert consult_reply_deadline(date(2025, 6, 1), settings=s) == date(2025, 6, 4)
    assert new_place_report_deadline(date(2025, 6, 1), settings=s) == date(2025, 6, 11)
    with pytest.raises(ValidationError):
        TransferSettings(report_days=0)


def test_transfer_notifications_art_27():
    notes = transfer_notifications()
    ours = {n.body for n in notes if n.sender is Body.bureau}
    assert ours == {Body.deciding_organ, Body.new_bureau}
    theirs = {n.body for n in notes if n.sender is Body.new_bureau}
    assert theirs == {Body.procuratorate, Body.public_security}
    assert all("第二十七条" in n.legal_basis for n in notes)


def test_files_handed_over_within_five_days():
    assert handover_deadline(date(2025, 6, 1)) == date(2025, 6, 6)
    assert handover_deadline(date(2025, 6, 1), settings=TransferSettings(handover_days=3)) == date(2025, 6, 4)
