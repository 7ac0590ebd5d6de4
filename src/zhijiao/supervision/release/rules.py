"""End of correction: when release is due, and who must be told on release or termination.

社区矫正法 第四十四条 (release: 解除社区矫正证明书 and notices), 第四十五条 (termination),
第四十八条、第四十九条 (revocation and 收监: the ruling organ delivers the decision, the police
take the subject in), 第五十一条 (death).
"""

from __future__ import annotations

from datetime import date

from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import ReleaseReason, TerminationReason
from zhijiao.supervision.notices.rules import Body, Notification

LEGAL_BASIS = {
    "release": "《社区矫正法》第四十四条",
    "revoked": "《社区矫正法》第四十五条、第四十八条",
    "recommitted": "《社区矫正法》第四十五条、第四十九条",
    "died": "《社区矫正法》第四十五条、第五十一条",
}


def is_release_due(correction_end: date, today: date | None = None) -> bool:
    """The term ends on its last day; the certificate is issued on that day (第四十四条 矫正期满)."""
    return (today or clock.today_local()) >= correction_end


def _release() -> list[Notification]:
    basis = LEGAL_BASIS["release"]
    return [
        Notification(Body.subject, "发放解除社区矫正证明书", basis),
        Notification(Body.deciding_organ, "书面通知解除社区矫正", basis),
        Notification(Body.procuratorate, "书面通知解除社区矫正", basis),
        Notification(Body.public_security, "书面通知解除社区矫正", basis),
    ]


def _revoked(basis: str, ruling_by: Body) -> list[Notification]:
    return [
        # The court or deciding organ sends its decision to us and to the police, copy to the procuratorate.
        Notification(Body.bureau, "送达撤销或收监决定书", basis, sender=ruling_by),
        Notification(Body.public_security, "送达决定书，由公安机关送交监狱或者看守所执行", basis, sender=ruling_by),
        Notification(Body.procuratorate, "抄送决定书", basis, sender=ruling_by),
        Notification(Body.public_security, "配合送交执行，移交社区矫正对象的有关情况", basis),
    ]


def release_notifications(outcome: ReleaseReason | TerminationReason | str) -> list[Notification]:
    """The checklist when correction ends by ``outcome`` (a release or termination reason)."""
    for kind in (ReleaseReason, TerminationReason):
        try:
            value = kind(outcome)
        except ValueError:
            continue
        if isinstance(value, ReleaseReason):  # 第四十四条: 期满 or 赦免
            return _release()
        if value is TerminationReason.died:  # 第五十一条
            basis = LEGAL_BASIS["died"]
            return [
                Notification(Body.bureau, "及时报告社区矫正对象死亡", basis, sender=Body.subject),
                Notification(Body.deciding_organ, "及时通知社区矫正对象死亡", basis),
                Notification(Body.procuratorate, "及时通知社区矫正对象死亡", basis),
                Notification(Body.public_security, "及时通知社区矫正对象死亡", basis),
            ]
        if value is TerminationReason.recommitted:  # 第四十九条
            return _revoked(LEGAL_BASIS["recommitted"], Body.deciding_organ)
        return _revoked(LEGAL_BASIS["revoked"], Body.court)  # 第四十八条
    raise InvalidInput(f"未知的结束原因：{outcome}", code="unknown_value", fields={"outcome": str(outcome)})
