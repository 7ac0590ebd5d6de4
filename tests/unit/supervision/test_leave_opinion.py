"""The opinion printed on the leave approval form says 同意 once (issue 19: it printed 同意。同意)."""

from zhijiao.supervision.leave.flows import leave_opinion


def test_the_opinion_says_its_word_once() -> None:
    assert leave_opinion(True, None) == "同意"
    assert leave_opinion(True, "同意") == "同意"
    assert leave_opinion(True, " 同意。") == "同意"
    assert leave_opinion(True, "同意，按期返回并报告") == "同意，按期返回并报告"
    assert leave_opinion(True, "按期返回") == "同意。按期返回"
    assert leave_opinion(False, "不同意") == "不同意"
    assert leave_opinion(False, "理由不充分") == "不同意。理由不充分"
