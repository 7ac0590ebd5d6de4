"""The event stream: ``publish(topic, payload)`` / ``subscribe(topic)``.

One interface for every module. The in-process bus here serves one machine; with
``ZHIJIAO_EVENT_STREAM=nats://…`` the ingestion package swaps in NATS JetStream behind the
same calls. ``publish`` is synchronous and thread-safe (services run in worker threads);
subscribers are asyncio queues on their own loop, or plain callbacks. A slow subscriber
drops its oldest events instead of slowing the publisher (screens re-read state anyway).
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

Payload = dict[str, Any]


class Subscription:
    def __init__(self, bus: EventBus, topic: str, maxsize: int) -> None:
        self.bus, self.topic = bus, topic
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Payload] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def _offer(self, payload: Payload) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(payload)

    async def get(self) -> Payload:
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[Payload]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Payload]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self.bus._remove(self)


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Subscription]] = defaultdict(list)
        self._callbacks: dict[str, list[Callable[[Payload], None]]] = defaultdict(list)

    def publish(self, topic: str, payload: Payload) -> None:
        with self._lock:
            subs = list(self._subs.get(topic, ()))
            callbacks = list(self._callbacks.get(topic, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._offer, payload)
            except RuntimeError:  # its loop is closed: forget it
                self._remove(sub)
        for fn in callbacks:
            fn(payload)

    def listened(self, topic: str) -> bool:
        """Whether anyone subscribed to ``topic``: a publisher may skip building a payload."""
        return bool(self._subs.get(topic) or self._callbacks.get(topic))

    def subscribe(self, topic: str, maxsize: int = 10_000) -> Subscription:
        """Subscribe from a running event loop; call ``close()`` when done."""
        sub = Subscription(self, topic, maxsize)
        with self._lock:
            self._subs[topic].append(sub)
        return sub

    def on(self, topic: str, fn: Callable[[Payload], None]) -> Callable[[], None]:
        """A synchronous callback (must be quick and thread-safe); returns an unsubscribe function."""
        with self._lock:
            self._callbacks[topic].append(fn)

        def off() -> None:
            with self._lock:
                if fn in self._callbacks[topic]:
                    self._callbacks[topic].remove(fn)

        return off

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs.get(sub.topic, ()):
                self._subs[sub.topic].remove(sub)


bus = EventBus()


def publish(topic: str, payload: Payload) -> None:
    bus.publish(topic, payload)


def subscribe(topic: str, maxsize: int = 10_000) -> Subscription:
    return bus.subscribe(topic, maxsize)


def listened(topic: str) -> bool:
    return bus.listened(topic)


def on(topic: str, fn: Callable[[Payload], None]) -> Callable[[], None]:
    return bus.on(topic, fn)


# --- publishing what a transaction did, once it is committed ------------------------------------

_PENDING = "events_on_commit"


def publish_on_commit(session: Any, topic: str, payload: Callable[[], Payload]) -> None:
    """Publish when ``session`` commits (ids are assigned by then); forget it on rollback.

    For services that change rows without committing themselves: a screen must never hear of
    an alarm that a rollback took back, nor miss one that was committed by the caller.
    """
    _ensure_listeners()
    session.info.setdefault(_PENDING, []).append((topic, payload))


_listening = False


def _ensure_listeners() -> None:
    global _listening
    if _listening:
        return

    @sa_event.listens_for(Session, "after_commit")
    def _flush_pending(session: Session) -> None:
        for topic, payload in session.info.pop(_PENDING, ()):
            publish(topic, payload())

    @sa_event.listens_for(Session, "after_soft_rollback")
    def _drop_pending(session: Session, _previous) -> None:
        session.info.pop(_PENDING, None)

    _listening = True
