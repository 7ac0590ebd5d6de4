"""Bound devices for the ingestion tests: a subject with a device, an order in force and a zone.

A module of its own rather than ``conftest``: test modules import these, and ``from conftest
import`` would find whichever conftest another test directory loaded first.
"""

from __future__ import annotations

from datetime import timedelta

import factories as f
from zhijiao.core import clock

# The district-sized square the e2e tests use as the permitted area, and points in and out of it.
SQUARE = {"type": "Polygon", "coordinates": [[[118.30, 36.80], [118.34, 36.80], [118.34, 36.84], [118.30, 36.84],
                                              [118.30, 36.80]]]}
INSIDE = (36.82, 118.32)
OUTSIDE = (36.90, 118.45)


def bind_device(client, db, *, protocol: str, ident: str, permitted: bool = True) -> dict:
    """A subject under correction with a device of ``protocol``, an order in force and a permitted zone.

    Returns ``{"subject", "device", "secret", "officer"}``; the secret is the one shown at registration.
    """
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    leader = f.staff(db, "leader")
    subject = f.subject(db, office, status="under_correction", correction_start_date=clock.today_local())
    h = f.login(client, officer.username)
    r = client.post("/api/v1/devices", headers=h, json={
        "kind": "bracelet" if protocol == "jt808" else "phone", "protocol": protocol, "ident": ident})
    assert r.status_code == 201, r.text
    device = r.json()
    assert client.post(f"/api/v1/subjects/{subject.id}/devices", json={"device_id": device["id"]},
                       headers=h).status_code == 201
    today = clock.today_local()
    r = client.post(f"/api/v1/subjects/{subject.id}/positioning-orders", headers=f.login(client, leader.username),
                    json={"trigger": "left_without_approval", "start_date": today.isoformat(),
                          "end_date": (today + timedelta(days=30)).isoformat(), "reason": "未经批准离开临淄区"})
    assert r.status_code == 201, r.text
    if permitted:
        assert client.post("/api/v1/zones", json={"name": "活动范围", "kind": "permitted", "geometry": SQUARE,
                                                  "subject_id": subject.id}, headers=h).status_code == 201
    return {"subject": subject, "device": device, "secret": device.get("secret"), "officer": officer}
