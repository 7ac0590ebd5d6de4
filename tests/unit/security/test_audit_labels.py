"""The audit log in words: tables, actions, fields and changes in Chinese (issue 19)."""

from __future__ import annotations

from zhijiao.security import audit_labels


def test_every_table_has_a_chinese_name() -> None:
    import importlib
    import pkgutil

    import zhijiao
    from zhijiao.db.base import Base

    for m in pkgutil.walk_packages(zhijiao.__path__, "zhijiao."):
        if m.name.endswith(".models"):
            importlib.import_module(m.name)
    missing = sorted(set(Base.metadata.tables) - set(audit_labels.TABLES))
    assert not missing, f"tables without a Chinese name in security/audit_labels.py: {missing}"


def test_an_update_reads_as_a_sentence() -> None:
    text = audit_labels.describe("update", {"status": ["pending_reception", "reported"], "version": [1, 2],
                                            "reported_at": [None, "2026-12-07T06:30:12.123456+00:00"]},
                                 values={"pending_reception": "待接收", "reported": "已报到"})
    assert text == "状态：待接收 → 已报到；报到时间：空 → 2026-12-07 14:30"  # Asia/Shanghai


def test_a_record_made_names_its_fields_and_people() -> None:
    text = audit_labels.describe("create", {"id": 3, "is_minor": False, "requested_by": "wang01",
                                            "phone": "***", "destination": "济南"},
                                 names={"wang01": "王所员"})
    assert text == "未成年人：否；申请人：王所员；联系电话：（已隐藏）；目的地：济南"
    assert audit_labels.table_label("leave_requests") == "外出请假"
    assert audit_labels.action_label("view_track") == "查看轨迹"
    assert audit_labels.table_label("new_table") == "new_table"  # unknown: shown as it is, never hidden
