"""Command center: fix → screen delay, server CPU per open screen, and first render of /command.

Three measurements, printed as one JSON line:

1. ``push``: N subjects (``--n``, default 1,000 and 10,000) each send one fix a minute (``--speedup``
   compresses time). Each fix is handed to the real ingestion :class:`Pipeline` (store → rules →
   ``positions`` event) of this process, whose :class:`LiveHub` is the screens' one fan-out; K
   viewers flush every ``FLUSH_EVERY_S`` exactly as the big screen's timer does (``hub.take`` and
   the JSON the browser would receive). Delay = from ``submit`` to the flush that carries the
   fix: median and p99 (target p99 < 1 s at 1,000; the 1 s flush period is most of it).
2. ``cpu_per_screen``: process CPU seconds per wall second at N=1,000 with 0, 1, 5 and 20 viewers
   (in-process viewers through the same code path as a screen, without the browser's socket).
3. ``first_render``: ``zhijiao serve`` on the same database, headless chromium logged in as the
   operator, ``/command`` loaded 5 times: from navigation start to the map ready with its dots,
   the alarm queue and today's numbers painted (target < 1 s). Skipped without chromium.

    PYTHONPATH=src python bench/command_center.py [--n 1000,10000] [--seconds 20] [--speedup 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import latency_ms, log, machine, own_ports  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


async def _measure(n: int, seconds: float, speedup: float, viewers: int, homes) -> dict:
    from ingest import ident_for

    from zhijiao.command import live
    from zhijiao.core import clock
    from zhijiao.core.fix import Fix, FixSource
    from zhijiao.ingestion.pipeline import Pipeline
    from zhijiao.ui.command import FLUSH_EVERY_S

    hub = live.LiveHub()
    await hub.start()
    assert hub.ready is not None
    await hub.ready.wait()
    pipeline = Pipeline(tick_every=3600, escalate_every=float("inf"))
    await pipeline.start()
    sent: dict[tuple[int, int], float] = {}  # (device n, fix time) → submitted at
    sid_of_device: dict[int, int] = {}
    delays: list[float] = []
    rng = random.Random(n)
    stop = asyncio.Event()

    async def screen(k: int) -> None:
        viewer = hub.connect(None)
        hub.snapshot(viewer)
        try:
            while not stop.is_set():
                await asyncio.sleep(FLUSH_EVERY_S)
                delta = hub.take(viewer)
                if delta.rows:
                    json.dumps(delta.rows)  # what goes down the socket to the browser
                now = time.perf_counter()
                if k == 0:
                    for row in delta.rows:
                        at = sent.pop((row[0], row[5]), None)
                        if at is not None:
                            delays.append(now - at)
        finally:
            hub.disconnect(viewer)

    # device n belongs to subject n+1 in the bench database (setup inserts them in order)
    for i in range(n):
        sid_of_device[i] = i + 1
    screens = [asyncio.create_task(screen(k)) for k in range(viewers)]
    per_second = n / 60 * speedup
    cpu0, wall0 = time.process_time(), time.perf_counter()
    t_end = wall0 + seconds
    tick = 0
    backlog = 0.0
    while time.perf_counter() < t_end:
        tick += 1
        backlog += per_second / 5
        count, backlog = int(backlog), backlog - int(backlog)
        fixes = []
        now = clock.now().replace(microsecond=0)
        for _ in range(count):
            d = rng.randrange(n)
            lat, lon = homes[d]
            fixes.append(Fix(device_ident=ident_for(d), fix_time=now, lat=lat + rng.uniform(-0.003, 0.003),
                             lon=lon + rng.uniform(-0.003, 0.003), source=FixSource.gnss, accuracy_m=10.0,
                             received_at=now))
        if fixes:
            submitted = time.perf_counter()
            new = await pipeline.submit(fixes)
            for f in new:
                sent[(f.subject_id, round(f.fix_time.timestamp()))] = submitted
        await asyncio.sleep(max(0.0, wall0 + tick * 0.2 - time.perf_counter()))
    await asyncio.sleep(FLUSH_EVERY_S * 2.5)  # the last flushes
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stop.set()
    await asyncio.gather(*screens)
    await pipeline.stop()
    await hub.stop()
    return {"delays": delays, "cpu_per_s": cpu / wall, "fixes_per_s": round(per_second, 1)}


def _first_render(url: str, tmp: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    try:
        from tests.ui import browser
    except ImportError as exc:
        return {"skipped": f"test helpers not importable: {exc}"}
    problem = browser.missing()
    if problem:
        return {"skipped": problem}
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from zhijiao.demo.seed import DEMO_PASSWORD

    os.environ["ZHIJIAO_DATABASE_URL"] = url
    times = []
    with browser.serve(url, tmp, env={"ZHIJIAO_SCHEDULER_ENABLED": "false"}) as base, \
            browser.chromium(tmp) as driver:
        browser.open_page(driver, f"{base}/login?next=/command")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys("operator")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(DEMO_PASSWORD)
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        try:
            WebDriverWait(driver, 60).until(lambda d: d.current_url == f"{base}/command")
        except Exception:  # noqa: BLE001 - say what the page showed instead of a bare timeout
            return {"error": "login failed", "url": driver.current_url,
                    "page": driver.find_element(By.TAG_NAME, "body").text[:300]}
        ready = ("const m = document.querySelector('.cc-map-root[data-ready=\"1\"]');"
                 "const tile = document.querySelector('.cc-tile .cc-num');"
                 "const queue = document.querySelector('.cc-alarm, .cc-empty');"
                 "return m && +m.dataset.dots > 0 && tile && !tile.textContent.includes('—') && queue"
                 " ? performance.now() : null;")
        for i in range(6):
            driver.get(f"{base}/command")
            try:
                at = WebDriverWait(driver, 60, poll_frequency=0.02).until(lambda d: d.execute_script(ready))
            except Exception:  # noqa: BLE001
                probe = ("const m = document.querySelector('.cc-map-root');"
                         "return [m && m.dataset.ready, m && m.dataset.dots,"
                         " [...document.querySelectorAll('.cc-tile .cc-num')].map(t => t.textContent).join('|'),"
                         " !!document.querySelector('.cc-alarm, .cc-empty')]")
                return {"error": "the screen never became ready", "state": driver.execute_script(probe),
                        "url": driver.current_url, "page": driver.find_element(By.TAG_NAME, "body").text[:300]}
            if i:  # the first load warms the server's caches
                times.append(at / 1000)
    return {"loads": len(times), **latency_ms(times), "target_ms": 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="1000,10000")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--speedup", type=float, default=6.0, help="fix rate = N / 60 × speedup per second")
    ap.add_argument("--viewers", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.n.split(",") if x]
    tmp = Path(tempfile.mkdtemp(prefix="bench-cc-"))
    os.environ.setdefault("ZHIJIAO_DATA_DIR", str(tmp / "data"))
    os.environ["ZHIJIAO_DEMO_MODE"] = "true"
    os.environ.setdefault("ZHIJIAO_SECRET_KEY", "bench-command-center")
    own_ports()
    from ingest import setup_database

    from zhijiao.config import reset_settings
    from zhijiao.db import session as dbsession

    reset_settings()
    started = time.perf_counter()
    out: dict = {"bench": "command_center", "method": "in-process pipeline + LiveHub, viewers flushed like the "
                 "screen's timer; first render in headless chromium", "speedup": args.speedup, "push": []}
    render_url = None
    for n in sizes:
        url = f"sqlite:///{tmp}/cc-{n}.db"
        log(f"# setting up {n} subjects")
        homes = setup_database(url, n, random.Random(n))
        dbsession.configure(url)
        r = asyncio.run(_measure(n, args.seconds, args.speedup, args.viewers, homes))
        out["push"].append({"subjects": n, "viewers": args.viewers, "fixes_per_s": r["fixes_per_s"],
                            "delay": latency_ms(r["delays"]), "target_p99_ms_at_1000": 1000})
        log(f"# N={n}: {out['push'][-1]}")
        if n == sizes[0]:
            render_url = url
            cpu = {}
            for k in (0, 1, 5, 20):
                cpu[k] = asyncio.run(_measure(n, min(args.seconds, 10.0), args.speedup, k, homes))["cpu_per_s"]
            out["cpu_per_screen"] = {
                "subjects": n, "cpu_s_per_s": {str(k): round(v, 4) for k, v in cpu.items()},
                "per_screen_cpu_s_per_s": round((cpu[20] - cpu[0]) / 20, 5),
            }
            log(f"# cpu: {out['cpu_per_screen']}")
    if not args.no_browser and render_url:
        out["first_render"] = _first_render(render_url, tmp)
    out["runtime_s"] = round(time.perf_counter() - started, 1)
    out["machine"] = machine()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
