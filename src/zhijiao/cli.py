"""The ``zhijiao`` command line.

Each command imports the parts of the application it runs when it runs: ``zhijiao --help``
stays quick, and a command never needs an optional extra (``zhijiao[nats]`` …) it does not use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys

from zhijiao.config import MissingExtra, get_settings, reset_settings


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from zhijiao.db import migrate

    migrate.upgrade()
    print("数据库已升级到最新版本 (database upgraded)")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from zhijiao import doctor

    checks = doctor.run_checks()
    print(doctor.report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _cmd_users_create(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from zhijiao.core.errors import DomainError
    from zhijiao.db.session import session_scope
    from zhijiao.org import service as org_service
    from zhijiao.org.schemas import StaffCreate
    from zhijiao.security import audit
    from zhijiao.security.actor import Actor

    audit.install()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码: ")
    try:
        staff_in = StaffCreate(
            username=args.username, display_name=args.display_name or args.username, role=args.role,
            office_code=args.office, password=password, totp_secret=args.totp_secret,
        )
        with session_scope(Actor.system("cli:users-create")) as session:
            if not org_service.bootstrap_allowed(db_session=session, role=staff_in.role):
                print("错误 [bootstrap_only]: 命令行只用于初次部署（创建第一位系统、安全、审计管理员）；"
                      "其他账号请由系统管理员在“账号管理”中创建，由安全管理员授予角色", file=sys.stderr)
                return 2
            staff = org_service.create_staff(db_session=session, staff_in=staff_in)
            print(f"已创建账号 {staff.username}（{staff.role}），编号 {staff.id}")
    except DomainError as exc:
        print(f"错误 [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        from zhijiao.api.errors import translate

        fields, _ = translate(list(exc.errors()))
        detail = "；".join(f"{k}: {v}" for k, v in fields.items())
        print(f"错误 [validation_error]: {detail}", file=sys.stderr)
        return 2
    return 0


def _cmd_users_otp(args: argparse.Namespace) -> int:
    """Print an account's current TOTP code — demo mode only, for trying the admin accounts."""
    import pyotp
    from sqlalchemy import select

    from zhijiao.db.session import session_scope
    from zhijiao.org.models import Staff

    if not get_settings().demo_mode:
        print("仅演示模式可用 (demo mode only)", file=sys.stderr)
        return 2
    with session_scope(None) as session:
        staff = session.execute(select(Staff).where(Staff.username == args.username)).scalar_one_or_none()
        if staff is None or not staff.totp_secret:
            print("账号不存在或未绑定动态口令", file=sys.stderr)
            return 2
        print(pyotp.TOTP(staff.totp_secret).now())
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    from zhijiao.security import keys

    if args.keys_cmd == "init":
        path = keys.init()
        print(f"密钥文件已创建: {path}")
    elif args.keys_cmd == "rotate":
        count = keys.rotate(batch=args.batch)
        print(f"已轮换密钥，重新加密 {count} 个字段值")
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from zhijiao.db.session import session_scope
    from zhijiao.security import audit

    from zhijiao.security import anchors

    with session_scope(None) as session:
        broken = audit.verify_chain(session)
        anchored = anchors.verify(session)
    if broken is not None:
        print(f"审计链被破坏：{broken.reason} (seq={broken.seq})", file=sys.stderr)
    for problem in anchored:
        print(f"审计链与外部锚点不符：{problem}", file=sys.stderr)
    if broken is not None or anchored:
        return 1
    count = len(anchors.read()[0])
    print(f"审计链完整 (audit chain intact)，与 {count} 个外部锚点一致 ({anchors.anchor_path()})")
    return 0


def _cmd_audit_anchor(args: argparse.Namespace) -> int:
    from zhijiao.db.session import session_scope
    from zhijiao.security import anchors

    with session_scope(None) as session:
        anchor = anchors.write(session)
    if anchor is None:
        print("链头未变化，无需新锚点 (head unchanged)")
    else:
        print(f"已写入锚点：第 {anchor.seq} 条 → {anchors.anchor_path()}")
    return 0


def _cmd_jobs_list(args: argparse.Namespace) -> int:
    from zhijiao.core import clock
    from zhijiao.db.session import session_scope
    from zhijiao.jobs import service as jobs

    with session_scope(None) as session:
        rows = jobs.status(db_session=session)
    for r in rows:
        last = (clock.to_local(r["last_started_at"]).strftime("%Y-%m-%d %H:%M:%S") if r["last_started_at"]
                else "从未运行")
        print(f"{r['name']:<24} {r['schedule']:<10} {r['last_status'] or '-':<6} {last}  {r['label']}"
              + (f"\n    错误：{r['last_error']}" if r["last_error"] else ""))
    return 0


def _cmd_jobs_run(args: argparse.Namespace) -> int:
    from zhijiao.core.errors import DomainError
    from zhijiao.db.session import session_scope
    from zhijiao.jobs import service as jobs

    try:
        job = jobs.get_job(args.name)
    except DomainError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2
    if not jobs.execute(job, force=True):
        print("该任务正在其他进程中运行 (the job is running elsewhere)", file=sys.stderr)
        return 1
    with session_scope(None) as session:
        row = next(r for r in jobs.status(db_session=session) if r["name"] == job.name)
    print(f"{job.name}: {row['last_status']} {row['last_result'] or ''}{row['last_error'] or ''}")
    return 0 if row["last_status"] == "ok" else 1


def _cmd_audit_purge(args: argparse.Namespace) -> int:
    from zhijiao.db.session import session_scope
    from zhijiao.security import audit

    try:
        with session_scope(None) as session:
            count = audit.purge(session, args.days)
    except ValueError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    print(f"已清理 {count} 条超期审计记录")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from zhijiao.server import serve

    get_settings().check_extras()  # here, not as a traceback from the server's startup
    serve(host=args.host, port=args.port)
    return 0


def _history_days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("须为 0 至 365 的整数") from None
    if not 0 <= value <= 365:
        raise argparse.ArgumentTypeError("须为 0 至 365 的整数")
    return value


def _cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("ZHIJIAO_DEMO_MODE", "true")
    reset_settings()
    get_settings().check_extras()
    from zhijiao.db import migrate
    from zhijiao.demo import seed

    migrate.upgrade()
    created = seed.seed(random_seed=args.seed, subjects=args.subjects, history_days=args.history_days,
                        progress=lambda line: print(line, flush=True))
    settings = get_settings()
    print(seed.banner(created, host=args.host or settings.host, port=args.port or settings.port))
    if args.no_serve:
        return 0
    from zhijiao.server import serve

    serve(host=args.host, port=args.port, simulate=not args.no_simulator)
    return 0


def _run_async(main) -> int:
    """Run a long-lived coroutine on uvloop when installed; SIGINT/SIGTERM end it cleanly."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def runner() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await main(stop)

    try:
        import uvloop

        return uvloop.run(runner())
    except ImportError:
        return asyncio.run(runner())


def _cmd_gateway(args: argparse.Namespace) -> int:
    """Device inputs without the web app: JT/T 808 (and MQTT when configured) → pipeline or JetStream."""
    settings = get_settings()
    settings.check_extras()

    async def main(stop) -> int:
        from zhijiao.core import heap
        from zhijiao.ingestion.runtime import Ingestion, is_nats

        ingestion = Ingestion(jt808_port=settings.jt808_port if args.port is None else args.port,
                              host=args.host or settings.jt808_host)
        await ingestion.start()
        heap.tune_for_service()
        where = "NATS JetStream" if is_nats(settings.event_stream) else "本机数据库"
        print(f"JT/T 808 网关已启动 {ingestion.gateway.host}:{ingestion.gateway.port}（定位数据写入{where}）"
              f" gateway listening on {ingestion.gateway.host}:{ingestion.gateway.port}", flush=True)
        await stop.wait()
        await ingestion.stop()
        return 0

    return _run_async(main)


def _cmd_worker(args: argparse.Namespace) -> int:
    """Consume fixes from JetStream (ZHIJIAO_EVENT_STREAM=nats://…): store, rules, alarms."""
    settings = get_settings()
    if not str(settings.event_stream).startswith(("nats://", "tls://")):
        print("错误：请设置 ZHIJIAO_EVENT_STREAM=nats://主机:4222 (the worker reads fixes from NATS JetStream)",
              file=sys.stderr)
        return 2
    settings.check_extras()

    async def main(stop) -> int:
        from zhijiao.core import heap
        from zhijiao.ingestion import nats as zj_nats
        from zhijiao.ingestion.pipeline import Pipeline

        shards = zj_nats.parse_shards(args.shards)
        pipeline = Pipeline(escalate_every=60.0 if 0 in shards else float("inf"))
        worker = zj_nats.FixWorker(settings.event_stream, pipeline, shards=shards, batch=args.batch)
        bridge = zj_nats.EventBridge(settings.event_stream)
        await bridge.start()  # first: what the pipeline's rebuild raises reaches the screens
        await pipeline.start()
        await worker.start()
        heap.tune_for_service()
        print(f"处理节点已启动，分片 {shards} (worker consuming shards {shards})", flush=True)
        await stop.wait()
        await worker.stop()
        await bridge.stop()
        await pipeline.stop()
        return 0

    return _run_async(main)


def _cmd_simulate(args: argparse.Namespace) -> int:
    """Simulated bracelets speaking JT/T 808 to a gateway (``make demo`` runs them in-process)."""
    settings = get_settings()

    async def main(stop) -> int:
        from zhijiao.demo import seed as demo_seed
        from zhijiao.demo import simulator as sim

        idents = [demo_seed.device_ident(n) for n in range(1, args.devices + 1)]
        homes: dict = {}
        exclusions: dict = {}
        if not args.no_db:
            try:
                _, homes, exclusions = await asyncio.to_thread(sim.load_demo_world, args.devices)
                print(f"从数据库读取了 {len(homes)} 个住址、{len(exclusions)} 个禁止区域 (homes from the database)")
            except Exception as exc:  # noqa: BLE001 - the simulator can run without the database
                print(f"未能读取数据库，使用合成住址 (no database: {str(exc).splitlines()[0][:120]})")
        simulator = sim.Simulator(args.host or "127.0.0.1", args.port or settings.jt808_port, idents,
                                  interval_s=60.0 / args.rate, seed=args.seed, homes=homes, exclusions=exclusions)
        print(f"模拟 {len(idents)} 个终端，每台约每 {60.0 / args.rate:.0f} 秒上报一次 → "
              f"{simulator.host}:{simulator.port}", flush=True)
        task = asyncio.create_task(simulator.run())

        async def report() -> None:
            while True:
                await asyncio.sleep(60)
                print("simulator:", dict(sorted(simulator.counters.items())), flush=True)

        reporter = asyncio.create_task(report())
        await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        for t in (task, reporter):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        print("simulator:", dict(sorted(simulator.counters.items())), flush=True)
        return 0

    return _run_async(main)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhijiao", description="智矫 社区矫正智慧管理平台")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p_db = sub.add_parser("db", help="数据库")
    db_sub = p_db.add_subparsers(dest="db_cmd", required=True)
    db_sub.add_parser("upgrade", help="迁移到最新版本").set_defaults(func=_cmd_db_upgrade)

    sub.add_parser("doctor", help="检查运行环境：字体、文书PDF、数据库、密钥 (check this machine)").set_defaults(
        func=_cmd_doctor)

    p_demo = sub.add_parser("demo", help="生成演示数据并启动")
    p_demo.add_argument("--seed", type=int, default=370305)
    p_demo.add_argument("--subjects", type=int, default=300)
    p_demo.add_argument("--history-days", type=_history_days, default=90,
                        help="生成多少天的历史业务数据（0–365，默认 90）")
    p_demo.add_argument("--no-serve", action="store_true")
    p_demo.add_argument("--no-simulator", action="store_true")
    p_demo.add_argument("--host", default=None)
    p_demo.add_argument("--port", type=int, default=None)
    p_demo.set_defaults(func=_cmd_demo)

    p_serve = sub.add_parser("serve", help="启动服务")
    p_serve.add_argument("--host", default=None)
    p_serve.add_argument("--port", type=int, default=None)
    p_serve.set_defaults(func=_cmd_serve)

    p_gw = sub.add_parser("gateway", help="启动设备接入网关（JT/T 808、MQTT），不含网页")
    p_gw.add_argument("--host", default=None, help="监听地址（默认 ZHIJIAO_JT808_HOST）")
    p_gw.add_argument("--port", type=int, default=None, help="JT/T 808 端口（默认 ZHIJIAO_JT808_PORT；0 表示任选）")
    p_gw.set_defaults(func=_cmd_gateway)

    p_worker = sub.add_parser("worker", help="处理节点：从 NATS JetStream 读取定位数据，入库并判断告警")
    p_worker.add_argument("--shards", default="all", help="负责的分片，如 0-7 或 0,3,5（共 16 个；默认全部）")
    p_worker.add_argument("--batch", type=int, default=128, help="每次拉取的消息数")
    p_worker.set_defaults(func=_cmd_worker)

    p_sim = sub.add_parser("simulate", help="模拟定位手环（JT/T 808）")
    p_sim.add_argument("--devices", type=int, default=60, help="终端数（编号 13900000001 起）")
    p_sim.add_argument("--rate", type=float, default=1.5, help="每台终端每分钟上报次数")
    p_sim.add_argument("--host", default=None, help="网关地址（默认 127.0.0.1）")
    p_sim.add_argument("--port", type=int, default=None, help="网关端口（默认 ZHIJIAO_JT808_PORT）")
    p_sim.add_argument("--seed", type=int, default=370305)
    p_sim.add_argument("--no-db", action="store_true", help="不读取数据库中的住址和禁止区域")
    p_sim.set_defaults(func=_cmd_simulate)

    p_users = sub.add_parser("users", help="账号管理")
    users_sub = p_users.add_subparsers(dest="users_cmd", required=True)
    p_create = users_sub.add_parser("create", help="初次部署：直接创建第一位系统、安全、审计管理员（此后只能在“账号管理”中创建）")
    p_create.add_argument("--username", required=True)
    p_create.add_argument("--role", required=True)
    p_create.add_argument("--office", default=None, help="司法所编码")
    p_create.add_argument("--display-name", default=None)
    p_create.add_argument("--password-stdin", action="store_true")
    p_create.add_argument("--totp-secret", default=None, help="BASE32 动态口令密钥（离线下发）")
    p_create.set_defaults(func=_cmd_users_create)

    p_otp = users_sub.add_parser("otp", help="打印当前动态口令（仅演示模式）")
    p_otp.add_argument("--username", required=True)
    p_otp.set_defaults(func=_cmd_users_otp)

    p_keys = sub.add_parser("keys", help="字段加密密钥")
    keys_sub = p_keys.add_subparsers(dest="keys_cmd", required=True)
    keys_sub.add_parser("init", help="创建密钥文件").set_defaults(func=_cmd_keys)
    p_rot = keys_sub.add_parser("rotate", help="新建密钥并分批重新加密")
    p_rot.add_argument("--batch", type=int, default=500)
    p_rot.set_defaults(func=_cmd_keys)

    p_jobs = sub.add_parser("jobs", help="定时任务")
    jobs_sub = p_jobs.add_subparsers(dest="jobs_cmd", required=True)
    jobs_sub.add_parser("list", help="列出定时任务及最近一次运行").set_defaults(func=_cmd_jobs_list)
    p_run = jobs_sub.add_parser("run", help="立即运行一个定时任务")
    p_run.add_argument("name")
    p_run.set_defaults(func=_cmd_jobs_run)

    p_audit = sub.add_parser("audit", help="审计")
    audit_sub = p_audit.add_subparsers(dest="audit_cmd", required=True)
    audit_sub.add_parser("verify", help="校验审计链（含外部锚点）").set_defaults(func=_cmd_audit_verify)
    audit_sub.add_parser("anchor", help="把审计链头写入外部锚点文件").set_defaults(func=_cmd_audit_anchor)
    p_purge = audit_sub.add_parser("purge", help="清理超过保存期限的审计记录（至少 183 天）")
    p_purge.add_argument("--days", type=int, default=183)
    p_purge.set_defaults(func=_cmd_audit_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o077)  # whatever a command writes under the data directory is the service's only (0600/0700)
    # Audit rows of sessions with no actor of their own name the command (issue 20 item 8); the
    # listener itself is installed by zhijiao.db.session at import, in every process.
    from zhijiao.security import audit

    sub = next((getattr(args, k) for k in ("db_cmd", "users_cmd", "keys_cmd", "jobs_cmd", "audit_cmd")
                if getattr(args, k, None)), None)
    audit.set_process_actor(f"cli:{args.cmd}" + (f"-{sub}" if sub else ""))
    try:
        return int(args.func(args) or 0)
    except MissingExtra as exc:  # a configured feature whose optional extra is not installed
        print(f"错误 [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
