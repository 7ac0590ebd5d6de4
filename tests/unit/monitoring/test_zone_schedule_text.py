"""How a zone's schedule reads on /zones."""

from zhijiao.monitoring.zones_ui import schedule_text


def test_schedule_text() -> None:
    assert schedule_text(None) == "全天"
    assert schedule_text([{"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "00:00"}]) == "每天 全天"
    assert schedule_text([{"weekdays": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}]) == "周一至周五 08:00–18:00"
    assert schedule_text([{"weekdays": [4, 5], "start": "22:00", "end": "06:00"}]) == "周五、周六 22:00–次日06:00"
