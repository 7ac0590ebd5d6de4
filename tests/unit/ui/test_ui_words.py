from zhijiao.ui.components.hidden_note import hidden_text


def test_hidden_text_says_what_is_left_out():
    assert hidden_text(0, 0) == ""
    assert hidden_text(3) == "另有 3 名未成年人档案仅责任人可见，未计入以上数字"
    assert hidden_text(0, 2, what="列表") == "另有 2 名未成年人档案解除矫正后依法封存，未计入列表"
    assert hidden_text(3, 2) == "另有 3 名未成年人档案仅责任人可见、2 名解除矫正后依法封存，未计入以上数字"


def test_every_roll_call_state_has_a_chinese_name_on_the_video_wall():
    from zhijiao.checkins.schemas import RollCallStatus
    from zhijiao.ui.command_video import ROLLCALL_STATUS

    assert {s.value for s in RollCallStatus} <= set(ROLLCALL_STATUS)
    assert ROLLCALL_STATUS["pending"] == "待应答"
