"""Citizen ID numbers (公民身份号码, GB 11643-1999) and the masking of personal data.

Pure functions: parse and validate an 18-digit number, mask numbers, phones and minors' names
for screens and documents, and generate valid numbers for fake data.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput


class Gender(enum.StrEnum):
    male = "male"
    female = "female"


GENDER_LABELS: dict[Gender, str] = {Gender.male: "男", Gender.female: "女"}

# GB/T 2260 province-level codes: the first two digits of the address code (GB 11643-1999 5.1).
# 71 台湾, 81 香港, 82 澳门; 83 is used by residence permits for Taiwan residents (830000).
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64"}
    | {"65", "71", "81", "82", "83"}
)

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# GB 11643-1999 7.2: ISO 7064 MOD 11-2, weight of position i (1-based from the left) is 2^(18-i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11
_SHAPE = re.compile(r"(\d{6})(\d{8})(\d{3})([0-9X])")

# Two-character surnames, so that 欧阳娜娜 becomes 欧阳某 and not 欧某.
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文"}
    | {"司徒", "令狐", "夏侯", "端木", "南宫", "西门", "独孤", "申屠", "轩辕", "呼延", "澹台"}
    | {"公冶", "太史", "濮阳", "淳于", "钟离", "闻人", "赫连", "拓跋", "百里", "东郭", "万俟"}
    | {"单于", "司空", "亓官", "仲孙", "鲜于", "段干", "第五", "梁丘", "左丘", "谷梁", "羊舌"}
)

_MESSAGES = {
    "id_number_format": "身份证号码格式不正确：应为18位，前17位为数字，末位为数字或X",
    "id_number_area": "身份证号码前6位地址码不正确",
    "id_number_birth_date": "身份证号码中的出生日期不是有效日期",
    "id_number_birth_future": "身份证号码中的出生日期晚于今天",
    "id_number_birth_early": "身份证号码中的出生日期早于1900年",
    "id_number_checksum": "身份证号码校验码不正确，请核对是否录入有误",
}


@dataclass(frozen=True, slots=True)
class IdNumberInfo:
    area_code: str
    birth_date: date
    gender: Gender
    number: str  # normalised: 18 characters, upper-case X


def _invalid(key: str, code: str) -> InvalidInput:
    message = _MESSAGES[key]
    return InvalidInput(message, code=code, fields={"id_number": message})


def check_digit(first17: str) -> str:
    """The 18th character for 17 digits (GB 11643-1999 7.2, ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_id_number(value: str) -> str:
    """Full-width to half-width, trimmed, 'x' upper-cased."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def parse_id_number(value: str, *, today: date | None = None) -> IdNumberInfo:
    """Validate an 18-digit citizen ID number and read what it encodes.

    Raises InvalidInput with code ``id_number_format`` (shape or address code),
    ``id_number_birth_date`` (impossible, future or before 1900) or ``id_number_checksum``.
    """
    number = normalise_id_number(value)
    match = _SHAPE.fullmatch(number)
    if match is None:
        raise _invalid("id_number_format", "id_number_format")
    area, birth, order, _check = match.groups()
    if area[:2] not in PROVINCE_CODES:  # GB 11643-1999 5.1 地址码 (GB/T 2260)
        raise _invalid("id_number_area", "id_number_format")
    try:  # GB 11643-1999 5.2 出生日期码 (GB/T 7408, YYYYMMDD)
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise _invalid("id_number_birth_date", "id_number_birth_date") from None
    if born < EARLIEST_BIRTH_DATE:
        raise _invalid("id_number_birth_early", "id_number_birth_date")
    if born > (today or clock.today_local()):
        raise _invalid("id_number_birth_future", "id_number_birth_date")
    if check_digit(number[:17]) != number[17]:  # GB 11643-1999 5.4 校验码
        raise _invalid("id_number_checksum", "id_number_checksum")
    # GB 11643-1999 5.3 顺序码: odd for men, even for women.
    gender = Gender.male if int(order[2]) % 2 == 1 else Gender.female
    return IdNumberInfo(area_code=area, birth_date=born, gender=gender, number=number)


def is_valid_id_number(value: str, *, today: date | None = None) -> bool:
    try:
        parse_id_number(value, today=today)
    except InvalidInput:
        return False
    return True


def generate_id_number(area_code: str, birth_date: date, gender: Gender | str, seq: int) -> str:
    """A valid number for fake data. ``seq`` 0–499 picks the order code (2·seq, +1 for men)."""
    if len(area_code) != 6 or not area_code.isdigit() or area_code[:2] not in PROVINCE_CODES:
        raise ValueError(f"bad area code {area_code!r}")
    if not 0 <= seq <= 499:
        raise ValueError("seq must be 0..499")
    order = seq * 2 + (1 if Gender(gender) is Gender.male else 0)
    first17 = f"{area_code}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


# --- masking (社区矫正法 第二十六条、第五十四条: protect identity and privacy) ---------------------


def mask_id_number(value: str, *, normalise: bool = True) -> str:
    """370305199001011234 → 370305********1234 (first 6, last 4 kept).

    ``normalise=False`` keeps the characters as given (only trimmed): a document prints the
    number as its context holds it, masked or not.
    """
    number = normalise_id_number(value) if normalise else value.strip()
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(value: str) -> str:
    """13812341234 → 138****1234; other numbers keep the first 3 and last 4 characters."""
    phone = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
    if phone.startswith("+86"):
        phone = phone[3:]
    if len(phone) <= 7:
        return "*" * max(len(phone) - 2, 0) + phone[-2:]
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def surname_of(name: str) -> str:
    """Surname of a Chinese name, recognising common compound surnames (欧阳, 司马, …)."""
    name = name.strip()
    # A two-character name is surname + given name even if it looks like a compound surname.
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def mask_minor_name(name: str) -> str:
    """张三 → 张某, 欧阳娜娜 → 欧阳某 (社区矫正法 第五十四条: minors' identity kept secret)."""
    return surname_of(name) + "某"
