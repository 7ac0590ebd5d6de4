"""Rewards and punishments (考核奖惩): who decides, when to escalate, and the other organs' clocks.

社区矫正法 第二十八条 lists the measures; the thresholds for escalation are the provincial practice
in shared/domain.md (实施办法 第三十五条 训诫, 第三十六条 警告, 第四十六条、第四十七条 撤销缓刑/假释,
第四十九条 收监执行) and are [configurable] in :class:`EscalationSettings`.

Escalation only *suggests*: an officer verifies and the body in :func:`who_decides` decides.
The system records proposals to courts, deciding organs and the police; it never decides them.

管制 cannot be revoked and has no 收监: where the others would get a revocation proposal, a 管制
subject gets a proposal for a public-security penalty (社区矫正法 第二十八条 提请公安机关予以治安管理处罚;
治安管理处罚法 covers those serving 管制 who break supervision rules).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import CorrectionType


class SanctionKind(enum.StrEnum):
    commendation = "commendation"
    admonition = "admonition"
    warning = "warning"
    police_penalty = "police_penalty"
    revoke_probation = "revoke_probation"
    revoke_parole = "revoke_parole"
    recommit = "recommit"
    sentence_reduction = "sentence_reduction"


class Decider(enum.StrEnum):
    bureau = "bureau"
    court = "court"
    public_security = "public_security"
    deciding_organ = "deciding_organ"  # the court, prison administration or police that decided 暂予监外执行


SANCTION_LABELS: dict[SanctionKind, str] = {
    SanctionKind.commendation: "表扬",
    SanctionKind.admonition: "训诫",
    SanctionKind.warning: "警告",
    SanctionKind.police_penalty: "提请治安管理处罚",
    SanctionKind.revoke_probation: "提请撤销缓刑",
    SanctionKind.revoke_parole: "提请撤销假释",
    SanctionKind.recommit: "提请收监执行",
    SanctionKind.sentence_reduction: "提请减刑",
}
DECIDER_LABELS: dict[Decider, str] = {
    Decider.bureau: "区司法局（县级社区矫正机构）",
    Decider.court: "人民法院",
    Decider.public_security: "公安机关",
    Decider.deciding_organ: "社区矫正决定机关",
}

LEGAL_BASIS: dict[SanctionKind, str] = {
    SanctionKind.commendation: "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十三条",
    SanctionKind.admonition: "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十五条",
    SanctionKind.warning: "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十六条",
    SanctionKind.police_penalty: "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十七条",
    SanctionKind.revoke_probation: "《社区矫正法》第二十八条、第四十六条、第四十八条；《社区矫正法实施办法》第四十六条",
    SanctionKind.revoke_parole: "《社区矫正法》第二十八条、第四十六条、第四十八条；《社区矫正法实施办法》第四十七条",
    SanctionKind.recommit: "《社区矫正法》第二十八条、第四十九条；《社区矫正法实施办法》第四十九条",
    SanctionKind.sentence_reduction: "《社区矫正法》第三十三条",
}

BUREAU_MEASURES = frozenset({SanctionKind.commendation, SanctionKind.admonition, SanctionKind.warning})
PROPOSALS = frozenset(SanctionKind) - BUREAU_MEASURES
REVOCATION_KINDS = frozenset({SanctionKind.revoke_probation, SanctionKind.revoke_parole, SanctionKind.recommit})

# Statutory clocks of the other organs (not configurable).
COURT_DECISION_DAYS = 30  # 社区矫正法 第三十三条 (减刑), 第四十八条 (撤销), 第四十九条 (收监)
ARREST_DECISION_HOURS = 48  # 社区矫正法 第四十七条
CUSTODY_MAX_DAYS = 30  # 社区矫正法 第四十七条


@dataclass(frozen=True, slots=True)
class DecisionRule:
    kind: SanctionKind
    decider: Decider
    office_verifies: bool  # the 司法所 investigates and verifies first
    proposal_only: bool  # the system records a proposal; another organ decides
    legal_basis: str
    decision_days: int | None = None  # the decider's statutory clock from receipt

    @property
    def decider_label(self) -> str:
        return DECIDER_LABELS[self.decider]


_DECIDERS: dict[SanctionKind, tuple[Decider, int | None]] = {
    SanctionKind.commendation: (Decider.bureau, None),  # 社区矫正法 第二十八条
    SanctionKind.admonition: (Decider.bureau, None),  # 实施办法 第三十五条
    SanctionKind.warning: (Decider.bureau, None),  # 实施办法 第三十六条
    SanctionKind.police_penalty: (Decider.public_security, None),  # 社区矫正法 第二十八条
    SanctionKind.revoke_probation: (Decider.court, COURT_DECISION_DAYS),  # 第四十六条、第四十八条
    SanctionKind.revoke_parole: (Decider.court, COURT_DECISION_DAYS),  # 第四十六条、第四十八条
    SanctionKind.recommit: (Decider.deciding_organ, COURT_DECISION_DAYS),  # 第四十九条
    SanctionKind.sentence_reduction: (Decider.court, COURT_DECISION_DAYS),  # 第三十三条 中级以上人民法院
}


def who_decides(kind: SanctionKind | str) -> DecisionRule:
    k = SanctionKind(kind)
    decider, days = _DECIDERS[k]
    return DecisionRule(k, decider, True, k in PROPOSALS, LEGAL_BASIS[k], days)


def revocation_kind(correction_type: CorrectionType | str) -> SanctionKind:
    """The strongest proposal for a type: 撤销缓刑, 撤销假释, 收监执行, or for 管制 a police penalty."""
    return {
        CorrectionType.probation: SanctionKind.revoke_probation,  # 社区矫正法 第四十六条
        CorrectionType.parole: SanctionKind.revoke_parole,  # 社区矫正法 第四十六条
        CorrectionType.medical_parole: SanctionKind.recommit,  # 社区矫正法 第四十九条
        CorrectionType.control: SanctionKind.police_penalty,  # 社区矫正法 第二十八条 (管制 cannot be revoked)
    }[CorrectionType(correction_type)]


# --- escalation --------------------------------------------------------------------------------


class EscalationSettings(BaseModel):
    """Provincial thresholds [configurable] (shared/domain.md 奖惩)."""

    model_config = ConfigDict(frozen=True)

    admonitions_for_warning: int = Field(2, ge=1)  # 实施办法 第三十六条(五)
    warnings_for_revocation: int = Field(2, ge=1)  # 实施办法 第四十六条(四)
    abscond_warning_days: int = Field(10, ge=1)  # 脱管 > 10 days: 警告 (第三十六条(二)); ≤ 10: 训诫
    abscond_revocation_months: int = Field(1, ge=1)  # 脱管 > 1 month: revocation (第四十六条(二))


@dataclass(frozen=True, slots=True)
class SanctionRecord:
    kind: SanctionKind
    on: date


@dataclass(frozen=True, slots=True)
class ViolationHistory:
    """What escalation looks at.

    ``records``: measures decided or proposed during this correction. ``absconded_from`` /
    ``absconded_until``: the latest 脱管 (until None = still absent). The two flags are set by the
    officer after verification and cleared once acted on.
    """

    correction_type: CorrectionType
    records: Sequence[SanctionRecord] = ()
    absconded_from: date | None = None
    absconded_until: date | None = None
    police_penalty_unreformed: bool = False  # 受到治安管理处罚，仍不改正
    medical_recheck_missed: bool = False  # 保外就医 不按时提交病情复查情况，经教育仍不改正


@dataclass(frozen=True, slots=True)
class ProposalSuggestion:
    kind: SanctionKind
    reason: str
    legal_basis: str

    @property
    def label(self) -> str:
        return SANCTION_LABELS[self.kind]


def _severity(kind: SanctionKind) -> int:
    if kind is SanctionKind.admonition:
        return 1
    if kind is SanctionKind.warning:
        return 2
    if kind in (SanctionKind.police_penalty, *REVOCATION_KINDS):
        return 3
    return 0


def _count_since_reset(records: Sequence[SanctionRecord], kind: SanctionKind) -> int:
    """How many ``kind`` since the last commendation or more severe measure ("without change")."""
    count = 0
    for record in sorted(records, key=lambda r: r.on):
        if record.kind is kind:
            count += 1
        elif record.kind is SanctionKind.commendation or _severity(record.kind) > _severity(kind):
            count = 0
    return count


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _abscond_suggestion(h: ViolationHistory, s: EscalationSettings, today: date) -> ProposalSuggestion | None:
    if h.absconded_from is None:
        return None
    until = h.absconded_until or today
    days = (until - h.absconded_from).days
    if days < 1:
        return None
    if until > _add_months(h.absconded_from, s.abscond_revocation_months):
        kind = revocation_kind(h.correction_type)
        reason = f"脱离监管超过{s.abscond_revocation_months}个月（{days}日）"
    elif days > s.abscond_warning_days:
        kind, reason = SanctionKind.warning, f"脱离监管超过{s.abscond_warning_days}日（{days}日）"
    else:
        kind, reason = SanctionKind.admonition, f"脱离监管{days}日，未超过{s.abscond_warning_days}日"
    already = any(r.on >= h.absconded_from and _severity(r.kind) >= _severity(kind) for r in h.records)
    return None if already else ProposalSuggestion(kind, reason, LEGAL_BASIS[kind])


def escalation(
    history: ViolationHistory, *, today: date | None = None, settings: EscalationSettings | None = None
) -> list[ProposalSuggestion]:
    """Suggestions, most severe first, each with its reason and legal basis in Chinese."""
    s = settings or EscalationSettings()
    ctype = CorrectionType(history.correction_type)
    strongest = revocation_kind(ctype)
    out: list[ProposalSuggestion] = []

    admonitions = _count_since_reset(history.records, SanctionKind.admonition)
    if admonitions >= s.admonitions_for_warning:  # 实施办法 第三十六条(五)
        out.append(ProposalSuggestion(
            SanctionKind.warning, f"受到{admonitions}次训诫仍不改正", LEGAL_BASIS[SanctionKind.warning]
        ))
    warnings = _count_since_reset(history.records, SanctionKind.warning)
    if warnings >= s.warnings_for_revocation:  # 实施办法 第四十六条(四)、第四十七条、第四十九条
        out.append(ProposalSuggestion(strongest, f"受到{warnings}次警告仍不改正", LEGAL_BASIS[strongest]))
    if history.police_penalty_unreformed and ctype is not CorrectionType.control:  # 第四十六条(三)
        out.append(ProposalSuggestion(
            strongest, "因违反监督管理规定受到治安管理处罚，仍不改正", LEGAL_BASIS[strongest]
        ))
    if history.medical_recheck_missed and ctype is CorrectionType.medical_parole:  # 第三十六条(四)
        out.append(ProposalSuggestion(
            SanctionKind.warning, "保外就医期间不按时提交病情复查情况，经教育仍不改正", LEGAL_BASIS[SanctionKind.warning]
        ))
    abscond = _abscond_suggestion(history, s, today or clock.today_local())  # 第三十五至三十六条、第四十六条
    if abscond is not None:
        out.append(abscond)
    return sorted(out, key=lambda p: -_severity(p.kind))


# --- the other organs' clocks --------------------------------------------------------------------


def _local_date(value: date | datetime) -> date:
    return clock.to_local(value).date() if isinstance(value, datetime) else value


def court_deadline(sent_at: date | datetime, kind: SanctionKind | str = SanctionKind.revoke_probation) -> date:
    """Last day for the court (or deciding organ) to rule on a proposal: 30 days.

    The law counts from receipt (社区矫正法 第三十三条、第四十八条、第四十九条); counting from the day
    we sent it gives a date no later than the true one, so a reminder is never late.
    """
    rule = who_decides(kind)
    if rule.decision_days is None:
        raise InvalidInput(
            f"“{SANCTION_LABELS[rule.kind]}”没有法定的决定期限", code="no_deadline", fields={"kind": str(kind)}
        )
    return _local_date(sent_at) + timedelta(days=rule.decision_days)


def arrest_decision_deadline(requested_at: datetime) -> datetime:
    """The court decides on arrest within 48 hours (社区矫正法 第四十七条)."""
    return clock.ensure_utc(requested_at) + timedelta(hours=ARREST_DECISION_HOURS)


def custody_limit(arrested_on: date) -> date:
    """Custody after arrest may not exceed 30 days (社区矫正法 第四十七条)."""
    return arrested_on + timedelta(days=CUSTODY_MAX_DAYS)
