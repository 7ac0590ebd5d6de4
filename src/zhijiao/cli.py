"""The ``zhijiao`` command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from zhijiao.db import migrate

    migrate.upgrade()
    print("数据库已升级到最新版本 (database upgraded)")
    return 0


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

    from zhijiao.config import get_settings
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

    with session_scope(None) as session:
        broken = audit.verify_chain(session)
    if broken is None:
        print("审计链完整 (audit chain intact)")
        return 0
    print(f"审计链被破坏：{broken.reason} (seq={broken.seq})", file=sys.stderr)
    return 1


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

    serve(host=args.host, port=args.port)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("ZHIJIAO_DEMO_MODE", "true")
    from zhijiao.config import get_settings, reset_settings

    reset_settings()
    from zhijiao.db import migrate
    from zhijiao.demo import seed

    migrate.upgrade()
    created = seed.seed(random_seed=args.seed, subjects=args.subjects)
    settings = get_settings()
    print(seed.banner(created, host=args.host or settings.host, port=args.port or settings.port))
    if args.no_serve:
        return 0
    from zhijiao.server import serve

    serve(host=args.host, port=args.port, simulate=not args.no_simulator)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhijiao", description="智矫 社区矫正智慧管理平台")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p_db = sub.add_parser("db", help="数据库")
    db_sub = p_db.add_subparsers(dest="db_cmd", required=True)
    db_sub.add_parser("upgrade", help="迁移到最新版本").set_defaults(func=_cmd_db_upgrade)

    p_demo = sub.add_parser("demo", help="生成演示数据并启动")
    p_demo.add_argument("--seed", type=int, default=370305)
    p_demo.add_argument("--subjects", type=int, default=300)
    p_demo.add_argument("--no-serve", action="store_true")
    p_demo.add_argument("--no-simulator", action="store_true")
    p_demo.add_argument("--host", default=None)
    p_demo.add_argument("--port", type=int, default=None)
    p_demo.set_defaults(func=_cmd_demo)

    p_serve = sub.add_parser("serve", help="启动服务")
    p_serve.add_argument("--host", default=None)
    p_serve.add_argument("--port", type=int, default=None)
    p_serve.set_defaults(func=_cmd_serve)

    p_users = sub.add_parser("users", help="账号管理")
    users_sub = p_users.add_subparsers(dest="users_cmd", required=True)
    p_create = users_sub.add_parser("create", help="创建账号")
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

    p_audit = sub.add_parser("audit", help="审计")
    audit_sub = p_audit.add_subparsers(dest="audit_cmd", required=True)
    audit_sub.add_parser("verify", help="校验审计链").set_defaults(func=_cmd_audit_verify)
    p_purge = audit_sub.add_parser("purge", help="清理超过保存期限的审计记录（至少 183 天）")
    p_purge.add_argument("--days", type=int, default=183)
    p_purge.set_defaults(func=_cmd_audit_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
