"""A JT/T 808 terminal registered with its number as printed in a 2013 header (issue 20 item 11):
one canonical form (``core.terminal``) at registration and in the gateway's lookup, so the
terminal registers and authenticates over real TCP with a 2013 or a 2019 header; bad numbers are
refused with a Chinese message and a stable code; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

import factories as f
from zhijiao.core import clock
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport, Version
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import Device, FixRecord
from zhijiao.security.actor import Actor

PRINTED = "013912345678"  # as a 2013 header prints it: 12 BCD digits, a leading zero


@pytest.fixture
def officer(client, db):
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    return f.login(client, officer.username), office


def _register(client, h, ident: str):
    return client.post("/api/v1/devices", json={"kind": "bracelet", "protocol": "jt808", "ident": ident}, headers=h)


@pytest.mark.parametrize("version", [Version.V2013, Version.V2019])
def test_a_number_registered_as_printed_registers_and_authenticates(client, db, officer, version):
    officer, office = officer
    r = _register(client, officer, PRINTED)
    assert r.status_code == 201, r.text
    assert r.json()["ident"] == "13912345678"  # the canonical form, shown back to the officer
    # the same terminal typed without its zero is the same device
    again = _register(client, officer, "13912345678")
    assert again.status_code == 409 and again.json()["code"] == "device_exists"
    # the binding form finds it by the number as printed too (the subject gets the fix below)
    subject = f.subject(db, office, status="under_correction", correction_start_date=clock.today_local())
    bound = client.post(f"/api/v1/subjects/{subject.id}/devices", json={"ident": PRINTED}, headers=officer)
    assert bound.status_code == 201, bound.text
    db.info["actor"] = Actor.system("test")
    assert db.execute(select(Device.ident)).scalars().all() == ["13912345678"]
    now = clock.now().replace(microsecond=0)

    async def scenario():
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1")
        await ingestion.start()
        try:
            phone = PRINTED if version is Version.V2013 else PRINTED.rjust(20, "0")
            async with Jt808Client("127.0.0.1", ingestion.gateway.port, phone, version=version) as c:
                reg = await c.register()
                assert reg.result == 0 and reg.auth_code  # not 4, no such terminal
                assert (await c.authenticate(reg.auth_code)).result == 0
                ack = await c.send_location(LocationReport.build(lat=36.82, lon=118.32, time=now))
                assert ack.result == 0
            await ingestion.pipeline.drain()
        finally:
            await ingestion.stop()

    asyncio.run(scenario())
    db.expire_all()
    assert db.execute(select(func.count()).select_from(FixRecord)).scalar_one() == 1


@pytest.mark.parametrize("bad", ["13912a45678", "139123456789012345678"])
def test_a_bad_terminal_number_is_refused_with_a_chinese_message(client, officer, bad):
    r = _register(client, officer[0], bad)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "terminal_number_invalid"
    assert "终端手机号" in body["message"] and body["fields"].get("ident")


def test_other_protocols_keep_their_identifiers_as_typed(client, officer):
    r = client.post("/api/v1/devices", json={"kind": "phone", "protocol": "mqtt", "ident": "007-phone"},
                    headers=officer[0])
    assert r.status_code == 201 and r.json()["ident"] == "007-phone"
