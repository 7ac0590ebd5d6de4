"""The retention purge deletes the old prefix of the audit chain a batch per transaction, so it
never holds the write lock for long; the chain still verifies (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, text

from tests import factories as f
from zhijiao.core import clock
from zhijiao.security import audit
from zhijiao.security.actor import Actor


def test_the_purge_commits_batch_by_batch(db, monkeypatch):
    db.info["actor"] = Actor.system("tests")
    with clock.frozen(clock.now() - timedelta(days=400)):
        for _ in range(7):
            f.office(db)
    old = db.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    f.office(db)
    monkeypatch.setattr(audit, "PURGE_BATCH", 2)
    commits: list[int] = []
    event.listen(db, "after_commit", lambda _s: commits.append(1))
    assert audit.purge(db) == old
    assert len(commits) >= old // 2
    assert db.execute(text("SELECT count(*) FROM audit_events")).scalar_one() >= 1
    assert audit.verify_chain(db) is None
