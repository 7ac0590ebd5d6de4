"""A realistic synthetic 临淄区: the bureau, its 12 司法所, staff and ~300 subjects.

Every identity is fake (valid-looking ID numbers with the 临淄区 area code 370305 and
consistent birth dates and genders); nothing here describes a real person.
"""

from __future__ import annotations

import random
import unicodedata
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import shapely
from sqlalchemy import select

from zhijiao.checkins.models import CheckIn
from zhijiao.checkins.service import checkin_interval_days
from zhijiao.core import clock
from zhijiao.db.session import session_scope
from zhijiao.demo import history
from zhijiao.monitoring import geofence
from zhijiao.monitoring.models import Device, DeviceBinding, PositioningOrder, Zone
from zhijiao.monitoring.positioning import Trigger, add_months
from zhijiao.org.models import Bureau, Office, Staff
from zhijiao.org.towns import TOWN_CENTRES
from zhijiao.security import audit, passwords
from zhijiao.security.actor import Actor
from zhijiao.security.crypto import get_keyring
from zhijiao.security.models import SubjectCredential
from zhijiao.security.permissions import ADMIN_ROLES, ROLE_LABELS, Role
from zhijiao.subjects import idcard, rules
from zhijiao.subjects.models import CorrectionTeamMember, Subject, SubjectTransition
from zhijiao.subjects.schemas import SubjectStatus

DEMO_PASSWORD = "Zhijiao@2026"
AREA_CODE = "370305"

# (code, office name, area, pinyin slug). Codes follow the township code pattern; a bureau
# loads its own list.
BRACELETS = 60  # subjects under electronic positioning in the demo (社区矫正法 第二十九条)

OFFICES = [
    ("370305001", "闻韶司法所", "闻韶街道", "wenshao"),
    ("370305002", "雪宫司法所", "雪宫街道", "xuegong"),
    ("370305003", "辛店司法所", "辛店街道", "xindian"),
    ("370305004", "稷下司法所", "稷下街道", "jixia"),
    ("370305005", "齐陵司法所", "齐陵街道", "qiling"),
    ("370305100", "齐都司法所", "齐都镇", "qidu"),
    ("370305101", "皇城司法所", "皇城镇", "huangcheng"),
    ("370305102", "敬仲司法所", "敬仲镇", "jingzhong"),
    ("370305103", "朱台司法所", "朱台镇", "zhutai"),
    ("370305104", "凤凰司法所", "凤凰镇", "fenghuang"),
    ("370305105", "金岭回族镇司法所", "金岭回族镇", "jinling"),
    ("370305106", "金山司法所", "金山镇", "jinshan"),
]

SURNAMES = list("王李张刘陈杨赵孙周吴徐马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘于蒋蔡杜程苏魏吕丁任崔姜孟秦边路翟")
MALE_GIVEN = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国志成东海峰龙浩宇航亮新春振")
FEMALE_GIVEN = list("芳娜敏静丽艳娟霞秀英玲燕红梅萍洁琳雪莉倩颖慧晶蕾")
ROADS = ["桓公路", "晏婴路", "齐兴路", "闻韶路", "雪宫路", "牛山路", "稷下路", "临淄大道", "齐园路", "遄台路", "太公路", "管仲路"]
VILLAGES = ["东村", "西村", "南王村", "北刘村", "后李村", "前屯村", "河崖头村", "梧台村", "官道村", "大夫店村"]

# (crime, correction type, weight, sentence template, term months range)
CASES = [
    ("危险驾驶罪", "probation", 30, "拘役{m}个月，缓刑{t}个月", (2, 6)),
    ("盗窃罪", "probation", 12, "有期徒刑{y}年，缓刑{t}个月", (12, 36)),
    ("诈骗罪", "probation", 8, "有期徒刑{y}年，缓刑{t}个月", (12, 48)),
    ("帮助信息网络犯罪活动罪", "probation", 10, "有期徒刑{m}个月，缓刑{t}个月", (12, 24)),
    ("故意伤害罪", "probation", 6, "有期徒刑{y}年，缓刑{t}个月", (12, 36)),
    ("交通肇事罪", "probation", 6, "有期徒刑{y}年，缓刑{t}个月", (12, 36)),
    ("开设赌场罪", "probation", 4, "有期徒刑{y}年，缓刑{t}个月", (12, 36)),
    ("非法吸收公众存款罪", "probation", 3, "有期徒刑{y}年，缓刑{t}个月", (24, 48)),
    ("寻衅滋事罪", "control", 3, "管制{t}个月", (6, 18)),
    ("盗窃罪", "parole", 5, "有期徒刑{y}年，假释考验期{t}个月", (6, 24)),
    ("抢劫罪", "parole", 3, "有期徒刑{y}年，假释考验期{t}个月", (12, 30)),
    ("贩卖毒品罪", "parole", 2, "有期徒刑{y}年，假释考验期{t}个月", (6, 24)),
    ("合同诈骗罪", "medical_parole", 3, "有期徒刑{y}年，暂予监外执行（保外就医）", (6, 12)),
    ("职务侵占罪", "medical_parole", 2, "有期徒刑{y}年，暂予监外执行", (6, 12)),
]

ORGANS = {
    "probation": ["淄博市临淄区人民法院"] * 6 + ["淄博市张店区人民法院", "淄博市中级人民法院"],
    "control": ["淄博市临淄区人民法院"],
    "parole": ["淄博市中级人民法院"],
    "medical_parole": ["山东省淄博监狱", "山东省鲁中监狱", "淄博市临淄区人民法院"],
}


@dataclass
class Ready:
    """The tester's path: one adult subject under correction with a phone login."""

    subject_id: int
    name: str
    id_number: str
    office_account: str  # the responsible officer: enrols the face at /subjects/N/face
    kiosk_account: str


@dataclass
class Seeded:
    offices: int
    staff: list[tuple[str, str, str]]  # username, role label, office
    subjects: int
    already: bool = False
    phone_login: str | None = None  # an ID number that can log in on the phone page
    ready: Ready | None = None
    history_days: int = 0
    seconds: float = 0.0


def _base32(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))


def _name(rng: random.Random, gender: str) -> str:
    given = MALE_GIVEN if gender == "male" else FEMALE_GIVEN
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def person_name(rng: random.Random, gender: str) -> str:
    return _name(rng, gender)


def id_number_for(birth: date, gender: str, rng: random.Random) -> str:
    return idcard.generate_id_number(AREA_CODE, birth, gender, rng.randrange(500))


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "158", "186", "187", "135", "133", "177"]) + f"{rng.randrange(10**8):08d}"


def _at(day: date, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=clock.SHANGHAI)
    return local.astimezone(UTC)


def _staff_list() -> list[tuple[str, str, Role, str | None, str]]:
    people = [
        ("bureau", "孙建华", Role.bureau_officer, None, "male"),
        ("operator", "高晓燕", Role.operator, None, "female"),
        ("operator2", "韩立伟", Role.operator, None, "male"),
        ("leader", "崔振国", Role.leader, None, "male"),
        ("sysadmin", "系统管理员", Role.sysadmin, None, "male"),
        ("secadmin", "安全管理员", Role.secadmin, None, "female"),
        ("auditor", "审计管理员", Role.auditor, None, "female"),
        ("kiosk1", "中心自助终端1", Role.kiosk, None, "male"),
    ]
    officer_names = ["王立新", "李秀梅", "张海涛", "刘静", "陈志强", "杨丽", "赵国庆", "孙娜", "周伟", "吴敏",
                     "徐建军", "马红", "朱明", "胡燕", "郭峰", "何琳", "高磊", "林芳", "罗斌", "郑霞",
                     "梁勇", "谢娟", "宋涛", "唐洁"]
    for i, (code, _name_, _area, slug) in enumerate(OFFICES):
        for j in range(2):
            name = officer_names[(2 * i + j) % len(officer_names)]
            people.append((f"{slug}{j + 1}", name, Role.office_officer, code, "male" if j == 0 else "female"))
    return people


def seed(random_seed: int = 370305, subjects: int = 300, history_days: int = history.DEFAULT_DAYS,
         progress: Callable[[str], None] | None = None) -> Seeded:
    """Seed an empty database once: the bureau, its people, then ``history_days`` of history.

    A database that already has the bureau is left as it is (a second start adds nothing)."""
    say = progress or (lambda _line: None)
    t0 = _time.monotonic()
    history_days = max(0, min(history.MAX_DAYS, history_days))
    with session_scope(Actor.system("demo-seed")) as db:
        if db.execute(select(Bureau.id)).first() is not None:
            staff = [(s.username, ROLE_LABELS[Role(s.role)] if s.role else "未授予角色", s.office.name if s.office else "区局")
                     for s in db.execute(select(Staff).order_by(Staff.id)).scalars()]
            count = db.execute(select(Subject.id).execution_options(skip_scope=True)).all()
            ready = _ready(db)
            return Seeded(offices=len(OFFICES), staff=staff, subjects=len(count), already=True,
                          phone_login=ready.id_number if ready else None, ready=ready)
    say(f"  生成演示数据：{len(OFFICES)} 个司法所、{subjects} 名社区矫正对象…")
    staff_rows = _population(random_seed, subjects, history_days)
    say(f"  基础数据完成，用时 {_time.monotonic() - t0:.0f} 秒")
    if history_days:
        # The history's steps are audited as the app audits them, each at its (past) moment; the
        # population before it is the bureau's data at the window's start, not an act of anyone.
        audit.install()
        history.build(history_days, random_seed=random_seed, progress=say)
    with session_scope(Actor.system("demo-seed")) as db:
        ready = _ready(db)
    return Seeded(offices=len(OFFICES), staff=staff_rows, subjects=subjects,
                  phone_login=ready.id_number if ready else None, ready=ready, history_days=history_days,
                  seconds=_time.monotonic() - t0)


def _ready(db) -> Ready | None:
    """The tester's subject: the first adult under correction with a phone login and no bracelet."""
    with_bracelet = select(DeviceBinding.subject_id).where(DeviceBinding.end_at.is_(None))
    query = (select(Subject).join(SubjectCredential, SubjectCredential.subject_id == Subject.id)
             .where(Subject.status == SubjectStatus.under_correction, Subject.is_minor.is_(False),
                    Subject.responsible_staff_id.is_not(None))
             .order_by(Subject.id).limit(1).execution_options(skip_scope=True))
    row = (db.execute(query.where(Subject.id.not_in(with_bracelet))).scalar_one_or_none()
           or db.execute(query).scalar_one_or_none())
    if row is None:
        return None
    kiosk = db.execute(select(Staff.username).where(Staff.role == Role.kiosk.value).order_by(Staff.id)).scalar()
    return Ready(subject_id=row.id, name=row.name, id_number=row.id_number,
                 office_account=row.responsible_staff.username, kiosk_account=kiosk or "kiosk1")


def _population(random_seed: int, subjects: int, history_days: int) -> list[tuple[str, str, str]]:
    """The bureau, offices, staff and subjects as rows (their past before the history window)."""
    rng = random.Random(random_seed)
    window = clock.today_local() - timedelta(days=history_days)
    with session_scope(Actor.system("demo-seed")) as db:
        bureau = Bureau(code=AREA_CODE, name="淄博市临淄区司法局", short_name="临淄区司法局")
        db.add(bureau)
        db.flush()
        offices: dict[str, Office] = {}
        for code, name, area, _slug in OFFICES:
            office = Office(bureau_id=bureau.id, code=code, name=name, area_name=area,
                            address=f"山东省淄博市临淄区{area}政府院内", phone=f"0533-71{rng.randrange(10**5):05d}")
            db.add(office)
            offices[code] = office
        db.flush()
        pw_hash = passwords.hash_password(DEMO_PASSWORD)
        now = clock.now()
        staff_rows: list[tuple[str, str, str]] = []
        officers_by_office: dict[int, list[Staff]] = {}
        for username, display, role, office_code, gender in _staff_list():
            office = offices.get(office_code) if office_code else None
            # The three administrators always need a second factor; their demo secrets are printed.
            totp = _base32(rng) if role in ADMIN_ROLES else None
            member = Staff(username=username, display_name=display, role=role.value, gender=gender,
                           office_id=office.id if office else None, bureau_id=bureau.id, password_hash=pw_hash,
                           password_changed_at=now, password_history=[], active=True, phone=_phone(rng),
                           totp_secret=totp)
            db.add(member)
            staff_rows.append((username, ROLE_LABELS[role], office.name if office else "区局"))
            if office is not None:
                officers_by_office.setdefault(office.id, []).append(member)
        db.flush()
        people = [_subject(rng, list(offices.values()), officers_by_office, window) for _ in range(subjects)]
        db.add_all(people)
        db.flush()
        leader = next(s for s in db.execute(select(Staff).where(Staff.role == Role.leader.value)).scalars())
        _positioning(db, rng, people, leader)
        _checkins(db, rng, people, history_days)
    return staff_rows


PHONE_PASSWORD = "Phone@2026"
PHONE_SHARE = 0.6  # subjects given a phone login at reception (they answer roll calls)


def _checkins(db, rng: random.Random, people: list[Subject], history_days: int = 0) -> None:
    """A history of check-ins by supervision level (the whole history window, at least the last
    three), a few overdue, and phone logins.

    Written as rows: the face engine cannot compare synthetic faces. Without them the first run
    of the missed check-in job would raise an alarm for everyone.
    """

    now = clock.now()
    phone_hash = passwords.hash_password(PHONE_PASSWORD)  # one hash for all: a demo, not a secret
    for subject in (p for p in people if p.status == SubjectStatus.under_correction):
        interval = checkin_interval_days(subject.supervision_level)
        overdue = rng.random() < 0.04
        last = now - timedelta(days=interval + rng.uniform(1, 5) if overdue else rng.uniform(0.1, interval * 0.9))
        for k in range(max(3, history_days // interval + 1)):
            at = last - timedelta(days=interval * k * rng.uniform(0.8, 1.0))
            if k >= 3 and at < now - timedelta(days=history_days):
                break
            if subject.correction_start_date and clock.to_local(at).date() < subject.correction_start_date:
                break
            kiosk = rng.random() < 0.5
            score = round(rng.uniform(0.55, 0.8), 3)
            db.add(CheckIn(subject_id=subject.id, source="kiosk" if kiosk else "phone",
                           kiosk_id=f"{subject.office.code}-K1" if kiosk else None, at=at, matched=True,
                           score=score, distance=round(1 - score, 3), liveness=True, challenge="turn_left",
                           reason="人脸比对通过", actor_name="kiosk" if kiosk else "subject"))
        if rng.random() < PHONE_SHARE:
            db.add(SubjectCredential(subject_id=subject.id, password_hash=phone_hash, set_at=now,
                                     set_by=subject.responsible_staff.username if subject.responsible_staff else "demo"))


_BOUNDARY = None


def _inside_district(lat: float, lon: float) -> tuple[float, float]:
    """Pull a point towards the district's centre until it lies inside the boundary."""
    global _BOUNDARY


    if _BOUNDARY is None:
        _BOUNDARY = geofence.linzi_boundary().geometry.buffer(-0.003)
    c = _BOUNDARY.representative_point()
    while not shapely.contains_xy(_BOUNDARY, lon, lat):
        lat, lon = lat + 0.3 * (c.y - lat), lon + 0.3 * (c.x - lon)
    return lat, lon


def device_ident(n: int) -> str:
    """Demo bracelets are 13900000001…: the simulator uses the same numbers."""
    return f"139{n:08d}"


def _positioning(db, rng: random.Random, people: list[Subject], leader: Staff) -> None:
    """The district boundary as everyone's permitted area, and bracelets for some subjects."""

    boundary = geofence.linzi_boundary()
    feature = geofence.zone_to_geojson(boundary)
    db.add(Zone(name="临淄区行政区域", kind="permitted", subject_id=None, source="区界",
                geojson={"type": "Feature", "geometry": feature["geometry"], "properties": {}}))
    today = clock.today_local()
    now = clock.now()
    chosen = [p for p in people if p.status == SubjectStatus.under_correction][:BRACELETS]
    for n, subject in enumerate(chosen, start=1):
        device = Device(kind="bracelet", protocol="jt808", ident=device_ident(n), model_profile="default_bracelet")
        db.add(device)
        db.flush()
        db.add(DeviceBinding(device_id=device.id, subject_id=subject.id, start_at=now - timedelta(days=rng.randint(1, 40)),
                             bound_by=leader.username))
        start = today - timedelta(days=rng.randint(0, 80))
        end = min(add_months(start, 3) - timedelta(days=1), today + timedelta(days=rng.randint(3, 80)))
        db.add(PositioningOrder(subject_id=subject.id, trigger=rng.choice(list(Trigger)).value, kind="initial",
                                start_date=start, end_date=max(end, today + timedelta(days=2)),
                                approved_by_id=leader.id, approved_by_name=leader.display_name,
                                approved_at=_at(start, rng), reason="经审批对其使用电子定位装置"))
        if subject.prohibitions and "娱乐场所" in subject.prohibitions:
            lat, lon = subject.home_lat + 0.01, subject.home_lon + 0.012
            db.add(Zone(name="某娱乐场所（禁止令）", kind="exclusion", subject_id=subject.id, source="禁止令",
                        geojson={"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                                 "properties": {"radius_m": 150}}))


def _subject(rng: random.Random, offices: list[Office], officers: dict[int, list[Staff]],
             window: date | None = None) -> Subject:
    """A subject as the bureau had it on the history window's first day ``window``: reception,
    announcement and release inside the window are left to :mod:`zhijiao.demo.cases`."""
    ring = get_keyring()
    today = clock.today_local()
    office = rng.choice(offices)
    crime, ctype, _w, template, (lo, hi) = rng.choices(CASES, weights=[c[2] for c in CASES])[0]
    gender = "female" if rng.random() < 0.14 else "male"
    minor = rng.random() < 0.02
    if minor:
        birth = today - timedelta(days=rng.randint(16 * 365, 17 * 365 + 300))
    else:
        birth = today - timedelta(days=rng.randint(20 * 365, 68 * 365))
    number = idcard.generate_id_number(AREA_CODE, birth, gender, rng.randrange(500))
    term_months = rng.randint(lo, hi)
    sentence = template.format(m=max(1, term_months // 2), y=max(1, term_months // 12), t=term_months)
    # Roughly: a few awaiting reception, most under correction, some already released.
    roll = rng.random()
    if roll < 0.04:
        judgment = today - timedelta(days=rng.randint(0, 14))  # some are overdue to report
    elif roll < 0.06:  # the term ended in the last weeks: released (or due) in the history
        judgment = today - timedelta(days=term_months * 30 + rng.randint(0, 25))
    elif roll < 0.14:
        judgment = today - timedelta(days=rng.randint(term_months * 30 + 20, term_months * 30 + 400))
    else:
        judgment = today - timedelta(days=rng.randint(15, max(16, term_months * 30 - 5)))
    start = judgment + timedelta(days=rng.randint(1, 9))
    end = rules.correction_end(start, rules.Term(months=term_months))
    area = office.area_name
    if area.endswith("镇"):
        address = f"山东省淄博市临淄区{area}{rng.choice(VILLAGES)}{rng.randint(1, 300)}号"
    else:
        address = f"山东省淄博市临淄区{area}{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 6)}单元"
    phone = _phone(rng)
    centre = TOWN_CENTRES[office.area_name]
    home = _inside_district(centre[0] + rng.uniform(-0.012, 0.012), centre[1] + rng.uniform(-0.015, 0.015))
    ethnicity = "回族" if office.area_name == "金岭回族镇" and rng.random() < 0.4 else "汉族"
    subject = Subject(
        office_id=office.id, name=_name(rng, gender), gender=gender, ethnicity=ethnicity, birth_date=birth,
        id_number=number, id_number_index=ring.blind_index(number), id_number_masked=idcard.mask_id_number(number),
        phone=phone, phone_masked=idcard.mask_phone(phone), residence_address=address, household_address=address,
        correction_type=ctype, crime=crime, sentence=sentence, deciding_organ=rng.choice(ORGANS[ctype]),
        judgment_effective_date=judgment, is_minor=minor,
        supervision_level=rng.choices(["strict", "ordinary", "lenient"], weights=[15, 65, 20])[0],
        prohibitions=rng.choice([None, None, None, "禁止进入夜总会、酒吧、迪厅等娱乐场所", "禁止接触被害人及其近亲属",
                                 "禁止从事食品生产、销售等经营活动"]),
        responsible_staff_id=(officer := rng.choice(officers[office.id])).id, status="pending_reception",
        home_lat=round(home[0], 6), home_lon=round(home[1], 6),
    )
    history = _history(rng, subject, judgment, start, end, window or today, officer.display_name)
    if subject.status in (SubjectStatus.pending_reception, SubjectStatus.reported):
        subject.correction_end_date = end  # the officer types the term at registration
    subject.transitions = history
    if history:  # the file was opened when its first step was recorded, not when the demo ran
        subject.created_at = min(t.at for t in history) - timedelta(minutes=rng.randint(5, 120))
    subject.team = _team(rng, subject, officers[office.id])
    return subject


def _history(rng, subject: Subject, judgment: date, start: date, end: date, today: date,
             officer_name: str | None = None) -> list[SubjectTransition]:
    steps: list[SubjectTransition] = []

    def step(to: str, day: date, reason: str | None = None) -> None:
        basis = rules.check_transition(subject.status, to, correction_type=subject.correction_type, reason=reason)
        at = _at(day, rng)
        if steps and at <= steps[-1].at:  # the same day: after the previous step, as it happened
            at = steps[-1].at + timedelta(minutes=rng.randint(20, 90))
        steps.append(SubjectTransition(from_status=subject.status, to_status=to, at=at,
                                       actor_name=officer_name or "系统", reason=reason, basis=basis))
        subject.status = to

    if start > today:
        return steps
    step("reported", start)
    subject.reported_at = steps[-1].at
    announce = start + timedelta(days=rng.randint(0, 2))
    if announce > today:
        return steps
    step("under_correction", announce)
    subject.correction_start_date = start
    subject.correction_end_date = end
    if end < today:
        step("released", end + timedelta(days=1))
        subject.ended_at = steps[-1].at
    elif rng.random() < 0.01:
        reason = {"probation": "revoked_probation", "parole": "revoked_parole",
                  "medical_parole": "recommitted"}.get(subject.correction_type, "died")
        step("terminated", today - timedelta(days=rng.randint(1, 30)), reason)
        subject.ended_at = steps[-1].at
        subject.termination_reason = reason
    return steps


def _team(rng, subject: Subject, officers: list[Staff]) -> list[CorrectionTeamMember]:
    officer = next((o for o in officers if o.id == subject.responsible_staff_id), officers[0])
    team = [CorrectionTeamMember(name=officer.display_name, role="司法所工作人员", gender=officer.gender)]
    if subject.gender == "female" and officer.gender != "female":
        # 社区矫正法 第二十五条: a female subject's team includes a woman.
        female = next((o for o in officers if o.gender == "female"), None)
        if female is not None:
            team.append(CorrectionTeamMember(name=female.display_name, role="司法所工作人员", gender="female"))
    team.append(CorrectionTeamMember(name=_name(rng, "male") , role="村（居）委会成员", gender="male", phone=_phone(rng)))
    team.append(CorrectionTeamMember(name=subject.name[0] + rng.choice(FEMALE_GIVEN + MALE_GIVEN), role="家庭成员",
                                     phone=_phone(rng)))
    return team


def _pad(text: str, width: int) -> str:
    """Left-justify in a terminal's columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def banner(seeded: Seeded, host: str, port: int) -> str:
    """What a person needs to start: the address, every role's login, and the tester's ready path."""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    lines = [
        "",
        "=" * 72,
        "  智矫 社区矫正智慧管理平台（演示）",
        f"  地址 URL: {base}/",
        f"  API 文档: {base}/docs   OpenAPI: /openapi.json",
        f"  司法所 {seeded.offices} 个，社区矫正对象 {seeded.subjects} 名" + (
            "（沿用已有数据，未重复生成）" if seeded.already
            else f"，历史 {seeded.history_days} 天（生成用时 {seeded.seconds:.0f} 秒）"),
        f"  演示账号（密码均为 {DEMO_PASSWORD}）:",
    ]
    shown = [s for s in seeded.staff if not s[0][-1].isdigit() or s[0].endswith("1")]
    for username, label, office in shown[:20]:
        lines.append(f"    {username:<14} {_pad(label, 18)} {office}")
    lines.append("    （每个司法所另有 <拼音>2 账号，如 wenshao2；值班员另有 operator2）")
    lines.append("  三员账号须输入动态口令：ZHIJIAO_DEMO_MODE=true .venv/bin/zhijiao users otp --username auditor")
    if seeded.phone_login:
        lines.append(f"  手机端 {base}/m/ ：身份证号 {seeded.phone_login}，密码 {PHONE_PASSWORD}")
    ready = seeded.ready
    if ready is not None:
        lines += [
            "  试用人脸签到（约两分钟）:",
            f"    1. 以 {ready.office_account} 登录，打开 {base}/subjects/{ready.subject_id}/face ，"
            f"用摄像头为 {ready.name} 采集人脸",
            f"    2. 手机端签到：{base}/m/ ，身份证号 {ready.id_number}，密码 {PHONE_PASSWORD}",
            f"    3. 自助终端签到：以 {ready.kiosk_account} 登录，打开 {base}/kiosk ，输入身份证号 {ready.id_number}",
        ]
    lines.append("=" * 72)
    return "\n".join(lines)
