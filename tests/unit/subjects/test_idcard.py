from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.idcard import (
    Gender,
    check_digit,
    generate_id_number,
    is_valid_id_number,
    mask_id_number,
    mask_minor_name,
    mask_phone,
    parse_id_number,
    surname_of,
)

TODAY = date(2025, 6, 1)


def _weighted_sum(first17: str) -> int:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]  # GB 11643-1999 table
    return sum(int(c) * w for c, w in zip(first17, weights, strict=True))


def test_check_digit_matches_the_standard_table():
    # the example number printed in GB 11643-1999
    assert check_digit("11010519491231002") == "X"
    s = _weighted_sum("37030519900101025")
    assert s == 216
    assert check_digit("37030519900101025") == "10X98765432"[s % 11] == "5"


@pytest.mark.parametrize(
    ("number", "area", "born", "gender"),
    [
        ("11010519491231002X", "110105", date(1949, 12, 31), Gender.female),
        ("370305199001010255", "370305", date(1990, 1, 1), Gender.male),
        ("370305200002290020", "370305", date(2000, 2, 29), Gender.female),
    ],
)
def test_valid_numbers_are_parsed(number, area, born, gender):
    info = parse_id_number(number, today=TODAY)
    assert (info.area_code, info.birth_date, info.gender, info.number) == (area, born, gender, number)


def test_lowercase_x_and_whitespace_and_full_width_are_normalised():
    assert parse_id_number(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == "11010519491231002X"


def test_wrong_check_digit():
    with pytest.raises(InvalidInput) as exc:
        parse_id_number("110105194912310021", today=TODAY)
    assert exc.value.code == "id_number_checksum"
    assert "校验码" in exc.value.message
    assert exc.value.fields == {"id_number": exc.value.message}


@pytest.mark.parametrize(
    "number",
    [
        "37030519990230" + "0011",  # 1999-02-30 does not exist
        "37030519990229" + "0011",  # 1999 is not a leap year
        "37030519991301" + "0011",  # month 13
        "37030519990100" + "0011",  # day 0
    ],
)
def test_impossible_birth_date(number):
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == "id_number_birth_date"


def test_future_birth_date_is_rejected_but_today_is_accepted():
    tomorrow = generate_id_number("370305", date(2025, 6, 2), Gender.male, 1)
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(tomorrow, today=TODAY)
    assert exc.value.code == "id_number_birth_date"
    assert "晚于今天" in exc.value.message
    assert parse_id_number(generate_id_number("370305", TODAY, "female", 1), today=TODAY).birth_date == TODAY


def test_birth_before_1900_is_rejected_and_1900_accepted():
    early = "44052418991231" + "001"
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(early + check_digit(early), today=TODAY)
    assert exc.value.code == "id_number_birth_date"
    assert is_valid_id_number(generate_id_number("440524", date(1900, 1, 1), "male", 0), today=TODAY)


def test_future_check_uses_the_application_clock():
    from datetime import UTC, datetime

    from zhijiao.core import clock

    number = generate_id_number("370305", date(2030, 1, 1), "male", 3)
    with clock.frozen(datetime(2029, 12, 31, 12, tzinfo=UTC)):
        assert not is_valid_id_number(number)
    with clock.frozen(datetime(2030, 1, 1, 0, tzinfo=UTC)):
        assert is_valid_id_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "37030519900101025",  # 17 characters
        "3703051990010102555",  # 19 characters
        "370305900101025",  # old 15-digit number
        "3703051990010102A5",  # letter inside
        "37030519900101025Y",  # letter other than X at the end
        "X70305199001010255",
        "370305 199001010255",
    ],
)
def test_format_errors(number):
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == "id_number_format"


@pytest.mark.parametrize("area", ["000000", "100000", "990101", "720000", "380101"])
def test_area_code_needs_a_province(area):
    first17 = f"{area}19900101025"
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(first17 + check_digit(first17), today=TODAY)
    assert exc.value.code == "id_number_format"
    assert "地址码" in exc.value.message


def test_gender_from_17th_digit():
    assert parse_id_number(generate_id_number("370305", date(1990, 1, 1), "male", 7), today=TODAY).gender == "male"
    assert parse_id_number(generate_id_number("370305", date(1990, 1, 1), "female", 7), today=TODAY).gender == "female"


@settings(max_examples=200, deadline=None)
@given(
    area=st.sampled_from(["370305", "110105", "440524", "650102", "810000"]),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    gender=st.sampled_from(list(Gender)),
    seq=st.integers(0, 499),
)
def test_generated_numbers_round_trip(area, born, gender, seq):
    number = generate_id_number(area, born, gender, seq)
    info = parse_id_number(number, today=TODAY)
    assert (info.area_code, info.birth_date, info.gender) == (area, born, gender)
    # any single changed digit in the first 17 breaks the check digit (MOD 11-2 property)
    i = seq % 17
    changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    assert check_digit(changed[:17]) != number[17]


@pytest.mark.parametrize("bad", [("37030", 0), ("990000", 0), ("370305", 500), ("370305", -1)])
def test_generate_rejects_bad_arguments(bad):
    area, seq = bad
    with pytest.raises(ValueError):
        generate_id_number(area, date(1990, 1, 1), Gender.male, seq)


def test_mask_id_number():
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert len(mask_id_number("370305199001010255")) == 18
    assert mask_id_number("370305900101025") == "370305*****1025"
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+8613812341234", "138****1234"),
        ("0533-7123456", "053****3456"),
        ("0533-71234567", "053*****4567"),
        ("12345", "***45"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张某"),
        ("王小明", "王某"),
        ("欧阳娜娜", "欧阳某"),
        ("司马光", "司马某"),
        ("诸葛亮", "诸葛某"),
        ("上官婉儿", "上官某"),
        ("东方明", "东方某"),
        ("皇甫嵩", "皇甫某"),
        ("尉迟恭", "尉迟某"),
        ("公孙胜", "公孙某"),
        ("慕容复", "慕容某"),
        ("长孙无忌", "长孙某"),
        ("宇文泰", "宇文某"),
        ("司徒雷", "司徒某"),
        ("令狐冲", "令狐某"),
        ("夏侯惇", "夏侯某"),
        ("司马", "司某"),  # two characters: surname 司, given name 马
        ("欧", "欧某"),
    ],
)
def test_mask_minor_name(name, masked):
    assert mask_minor_name(name) == masked


def test_surname_of_strips_spaces():
    assert surname_of(" 欧阳修 ") == "欧阳"
