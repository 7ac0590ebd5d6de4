"""The one canonical JT/T 808 terminal number (issue 20 item 11)."""

from __future__ import annotations

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.core.terminal import canonical_terminal_number
from zhijiao.ingestion.protocols.jt808.codec import Version, encode_phone, normalise_phone


@pytest.mark.parametrize("raw", ["013912345678", "13912345678", "00000000013912345678"])
def test_printed_forms_give_one_number(raw):
    assert canonical_terminal_number(raw) == "13912345678"
    assert normalise_phone(raw) == "13912345678"  # the gateway's lookup is the same function


def test_the_canonical_form_pads_back_to_either_header():
    assert encode_phone("13912345678", Version.V2013).hex() == "013912345678"
    assert encode_phone("13912345678", Version.V2019).hex() == "00000000013912345678"


@pytest.mark.parametrize(("raw", "field"), [("1391234567x", "只能是数字"), ("", "只能是数字"), ("１２３", "只能是数字"),
                                             ("1" * 21, "最多 20 位")])
def test_bad_numbers_are_refused_with_a_stable_code(raw, field):
    with pytest.raises(InvalidInput) as refused:
        canonical_terminal_number(raw)
    assert refused.value.code == "terminal_number_invalid" and refused.value.fields == {"ident": field}
    assert isinstance(refused.value, ValueError)
