"""What the inputs hand the rules: noisy fixes never trigger, replayed fixes keep their alarm bits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bound_devices import INSIDE, OUTSIDE, bind_device
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

import factories as f
from zhijiao.core import clock, events, topics
from zhijiao.core.fix import Fix
from zhijiao.ingestion import rules_engine
from zhijiao.ingestion.pipeline import Pipeline
from zhijiao.ingestion.rules_engine import RulesEngine
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import FLAG_NOISY, Alarm, FixRecord
from zhijiao.monitoring.rules import SubjectRuleState
from zhijiao.security.actor import Actor

IDENT = "13900009001"


def _fix(at, where, **kw) -> Fix:
    return Fix(device_ident=IDENT, fix_time=at, lat=where[0], lon=where[1], received_at=clock.now(), **kw)


def _alarms(db) -> set[tuple[str, bool]]:
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    return {(a.type, a.retrospective) for a in db.execute(select(Alarm)).scalars()}


def test_unpositioned_fixes_are_kept_but_never_alarm(client, db):
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    pipeline = Pipeline()
    # ten minutes "outside" from the cell tower only (JT/T 808 status: not positioned)
    pipeline.process_now([_fix(now - timedelta(minutes=m), OUTSIDE, extras={"positioned": False})
                          for m in range(10, 0, -1)])
    db.info["actor"] = Actor.system("test")
    rows = db.execute(select(FixRecord)).scalars().all()
    assert len(rows) == 10 and all(r.flags & FLAG_NOISY for r in rows)
    assert _alarms(db) == set()


def test_replay_of_late_data_keeps_the_device_alarms(client, db):
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    pipeline = Pipeline()
    pipeline.process_now([_fix(now - timedelta(minutes=5), INSIDE)])
    # one batch: an SOS now, and an hour-old backfill that makes the rules replay from the database
    sos = _fix(now, INSIDE, alarm_bits=1, extras={"alarm_types": ["sos"]})
    late = [_fix(now - timedelta(hours=1, minutes=m), INSIDE, backfill=True) for m in range(3)]
    pipeline.process_now([sos, *late])
    assert _alarms(db) == {("sos", False)}
    assert pipeline.rules.counters["replays"] >= 1


def test_late_data_replays_from_a_frozen_checkpoint(client, db, monkeypatch):
    """A backfill after a dropout replays from the state kept before it (frozen to bytes), and the
    outing it holds raises one retrospective alarm."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(second=0, microsecond=0)
    pipeline = Pipeline()
    minutes = lambda a, b: [now - timedelta(minutes=m) for m in range(a, b, -1)]  # noqa: E731
    pipeline.process_now([_fix(t, INSIDE) for t in minutes(150, 60)])  # live until the dropout
    pipeline.process_now([_fix(t, INSIDE) for t in minutes(10, 0)])  # live again
    entry = pipeline.rules.subjects[next(iter(pipeline.rules.subjects))]
    kept = list(entry.checkpoints)
    since = now - timedelta(minutes=60)  # the backfill's first fix
    # (two or more, thinned with age, whatever the half hour now is in; one from before the dropout)
    assert len(kept) >= 2 and all(isinstance(frozen, bytes) for _, frozen in kept)
    assert any(at <= since for at, _ in kept)
    thawed = []
    real_thaw = SubjectRuleState.thaw
    monkeypatch.setattr(SubjectRuleState, "thaw", classmethod(
        lambda cls, *a: thawed.append(a[0]) or real_thaw.__func__(cls, *a)))
    # the dropout's fixes, stored by the device and sent late: ten minutes out of the area
    backfill = [_fix(t, OUTSIDE if now - timedelta(minutes=50) <= t < now - timedelta(minutes=40) else INSIDE,
                     backfill=True) for t in minutes(60, 10)]
    pipeline.process_now(backfill)
    assert pipeline.rules.counters["replays"] == 1
    assert since == min(f.fix_time for f in backfill)
    assert thawed == [max((at, frozen) for at, frozen in kept if at <= since)[1]]  # the latest before it
    assert _alarms(db) == {("left_permitted_area", True)}
    # the live state went on from the replay: the subject is back and nothing else opens
    pipeline.process_now([_fix(now + timedelta(minutes=1), INSIDE)])
    assert _alarms(db) == {("left_permitted_area", True)}


def _published_alarms() -> tuple[list[tuple[str, str]], object]:
    seen: list[tuple[str, str]] = []
    return seen, events.on(topics.ALARMS, lambda p: seen.append((p["type"], p["change"])))


def test_an_sos_stored_but_not_evaluated_before_a_crash_is_raised_on_restart(client, db):
    """Acknowledged means stored, not evaluated: the process may die in between. The restart's
    rebuild evaluates what it reads back and raises what no alarm tells of."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    crashed = Pipeline()
    crashed.store.store([_fix(now - timedelta(minutes=3), INSIDE),
                         _fix(now - timedelta(minutes=2), INSIDE, alarm_bits=1, extras={"alarm_types": ["sos"]})])
    assert _alarms(db) == set()  # killed before its rules ran
    seen, off = _published_alarms()
    try:
        Pipeline().process_now([_fix(now, INSIDE)])
    finally:
        off()
    assert _alarms(db) == {("sos", False)}
    assert seen == [("sos", "opened")]


def test_a_restart_reads_back_only_the_subjects_it_judges(client, db, monkeypatch):
    """A worker owning some shards rebuilds those subjects only, a chunk of subjects at a time:
    a province's half hour of every subject's fixes would not fit in one process."""
    idents = ["13900009011", "13900009012", "13900009013"]
    subjects = [bind_device(client, db, protocol="jt808", ident=i)["subject"].id for i in idents]
    now = clock.now().replace(microsecond=0)
    crashed = Pipeline()
    crashed.store.store([Fix(device_ident=i, fix_time=now - timedelta(minutes=2), lat=INSIDE[0], lon=INSIDE[1],
                             received_at=now, alarm_bits=1, extras={"alarm_types": ["sos"]}) for i in idents])
    monkeypatch.setattr(rules_engine, "REBUILD_CHUNK", 1)
    owned = {subjects[0], subjects[2]}
    restarted = Pipeline()
    restarted.rules.subject_filter = owned.__contains__
    restarted.process_now([])
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    assert sorted(a.subject_id for a in db.execute(select(Alarm).where(Alarm.type == "sos")).scalars()) == sorted(owned)
    assert set(restarted.rules.subjects) == owned  # the other subject's fixes were never read


def test_a_restart_raises_nothing_again(client, db):
    """What was raised stays one alarm, what an officer closed stays closed, and nobody is told."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    first = Pipeline()
    first.process_now([_fix(now - timedelta(seconds=s), OUTSIDE) for s in range(270, 60, -30)]
                      + [_fix(now - timedelta(seconds=60), INSIDE, alarm_bits=1, extras={"alarm_types": ["sos"]})])
    assert _alarms(db) == {("left_permitted_area", False), ("sos", False)}
    sos = db.execute(select(Alarm).where(Alarm.type == "sos")).scalar_one()
    sos.status, sos.closed_at = "closed", clock.now()  # handled
    db.commit()
    seen, off = _published_alarms()
    try:
        Pipeline().process_now([_fix(now - timedelta(seconds=30), INSIDE)])
    finally:
        off()
    rows = sorted((a.type, a.status) for a in db.execute(select(Alarm)).scalars())
    assert rows == [("left_permitted_area", "open"), ("sos", "closed")]
    assert ("sos", "opened") not in seen and ("left_permitted_area", "opened") not in seen


def test_alarms_the_database_could_not_take_are_raised_with_the_next_batch(client, db, monkeypatch):
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    p = Pipeline()
    p.process_now([_fix(now - timedelta(seconds=90), INSIDE)])
    real, failures = alarm_service.apply_rule_events, []

    def down_once(*, db_session, rule_events, **kw):
        if not failures:
            failures.append([e.alarm_type for e in rule_events])
            raise OperationalError("INSERT INTO alarms", {}, Exception("server closed the connection"))
        return real(db_session=db_session, rule_events=rule_events, **kw)

    monkeypatch.setattr(alarm_service, "apply_rule_events", down_once)
    p.process_now([_fix(now - timedelta(seconds=60), INSIDE, alarm_bits=1, extras={"alarm_types": ["sos"]})])
    assert failures == [["sos"]] and _alarms(db) == set()  # stored; its alarm not yet
    p.process_now([_fix(now - timedelta(seconds=30), INSIDE)])  # the next batch: the database is back
    assert _alarms(db) == {("sos", False)}
    assert p.rules.counters["events_retried"] == 1


def _fail_once(monkeypatch, owner, name: str) -> list[str]:
    """Make the method ``owner.name(self, db, ...)`` fail the first time with a real failed
    statement on its session (on PostgreSQL that also aborts the transaction)."""
    real, failed = getattr(owner, name), []

    def flaky(self, db, *args, **kwargs):
        if not failed:
            failed.append(name)
            db.execute(text("SELECT no_such_column FROM fixes"))
        return real(self, db, *args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return failed


@pytest.mark.parametrize("then", ["next_batch", "tick"])
def test_a_replay_the_database_could_not_serve_is_owed_not_lost(client, db, monkeypatch, then):
    """A backfill came in (stored, acknowledged) but reading the subject's fixes back for the
    replay failed: the replay is owed and done with the next batch or tick, and the outing the
    backfill holds raises its retrospective alarm then. Another subject's SOS in the same batch
    is raised at once (the failed statement is rolled back, not left to abort the pass)."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    other = "13900009021"
    bind_device(client, db, protocol="jt808", ident=other)
    now = clock.now().replace(second=0, microsecond=0)
    pipeline = Pipeline()
    minutes = lambda a, b: [now - timedelta(minutes=m) for m in range(a, b, -1)]  # noqa: E731
    pipeline.process_now([_fix(t, INSIDE) for t in minutes(90, 60)] + [_fix(t, INSIDE) for t in minutes(10, 0)])
    failed = _fail_once(monkeypatch, RulesEngine, "_replay")
    backfill = [_fix(t, OUTSIDE if now - timedelta(minutes=50) <= t < now - timedelta(minutes=40) else INSIDE,
                     backfill=True) for t in minutes(60, 10)]
    sos = Fix(device_ident=other, fix_time=now, lat=INSIDE[0], lon=INSIDE[1], received_at=clock.now(),
              alarm_bits=1, extras={"alarm_types": ["sos"]})
    pipeline.process_now(backfill + [sos])  # no exception: the pass goes on
    assert failed == ["_replay"] and _alarms(db) == {("sos", False)}
    sid = next(iter(pipeline.rules.subjects))
    assert pipeline.rules.deferred == {sid} and pipeline.rules.counters["replays_deferred"] == 1
    if then == "next_batch":
        pipeline.process_now([_fix(now + timedelta(minutes=1), INSIDE)])
    else:
        pipeline._tick()
    assert _alarms(db) == {("left_permitted_area", True), ("sos", False)}
    assert pipeline.rules.deferred == set()


def test_a_reload_the_database_could_not_serve_keeps_the_loaded_zones(client, db, monkeypatch):
    """Zones or bindings changed, and reading them failed: the pass goes on with the ones
    loaded (an SOS is still raised) and the next pass reads them again."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    pipeline = Pipeline()
    pipeline.process_now([_fix(now - timedelta(seconds=60), INSIDE)])
    failed = _fail_once(monkeypatch, RulesEngine, "reload")
    pipeline.rules._changed({})  # a change notice: the next pass reloads
    pipeline.process_now([_fix(now - timedelta(seconds=30), INSIDE, alarm_bits=1, extras={"alarm_types": ["sos"]})])
    assert failed == ["reload"] and _alarms(db) == {("sos", False)}
    assert pipeline.rules.counters["reloads_failed"] == 1 and pipeline.rules._dirty
    pipeline.process_now([_fix(now, INSIDE)])
    assert not pipeline.rules._dirty


def test_thresholds_the_bureau_changes_apply_without_a_restart(client, db, monkeypatch):
    """The system administrator lengthens the dwell to ten minutes: a running pipeline takes it
    (within seconds; here at once), and five minutes out raise nothing."""
    monkeypatch.setattr(rules_engine, "SETTINGS_EVERY_S", 0.0)
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    pipeline = Pipeline()
    pipeline.process_now([_fix(now - timedelta(minutes=10), INSIDE)])
    sysadmin = f.login(client, f.staff(db, "sysadmin").username)
    r = client.put("/api/v1/settings/rules.dwell_s", json={"value": 600}, headers=sysadmin)
    assert r.status_code == 200, r.text
    pipeline.process_now([_fix(now - timedelta(seconds=s), OUTSIDE) for s in range(300, 0, -30)])
    assert _alarms(db) == set()
    assert pipeline.rules.settings.dwell_s == 600 and pipeline.rules.counters["settings_applied"] == 1
