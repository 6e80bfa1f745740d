"""``kiosk-backend``: run the central backend, or the embedded one, and its admin tools.

    kiosk-backend [serve] [--config SITE.toml] [--host H] [--port P] [--workers N]
    kiosk-backend --embedded [--data-dir DIR] [--port P]
    kiosk-backend migrate | seed FILE.json | token [--kiosk-id ID] | keys generate   (each takes --embedded)
    kiosk-backend staff-add USER --role R [--name N]   (password on stdin; prints the TOTP secret once)

Every failure a person can fix prints one clear line and exits non-zero; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from backend.config import BackendConfig, ConfigError, load_backend_config, resolve

EXIT_CONFIG = 2
EXIT_PROBLEM = 1


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="a site TOML file over config/backend.toml")
    common.add_argument("--embedded", action="store_true",
                        help="use the local SQLite store (demo) instead of PostgreSQL")
    common.add_argument("--data-dir", type=Path, help="embedded store folder (default: embedded.data_dir)")
    parser = argparse.ArgumentParser(prog="kiosk-backend", parents=[common],
                                     description="Central backend for the social-security card kiosks")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (server mode)")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", parents=[common], help="run the HTTP service (the default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", parents=[common], help="bring the database schema up to date")
    seed = sub.add_parser("seed", parents=[common], help="load persons and bank test accounts from JSON")
    seed.add_argument("file", type=Path)
    token = sub.add_parser("token", parents=[common], help="issue a one-time kiosk enrollment token")
    token.add_argument("--kiosk-id", required=True, help="the one kiosk the token enrolls")
    token.add_argument("--role", choices=("office", "field"), default="office", help="office or field kiosk")
    token.add_argument("--rekey", action="store_true", help="may replace the key of this enrolled kiosk")
    keys = sub.add_parser("keys", parents=[common], help="review key tools")
    keys.add_argument("action", choices=["generate"])
    staff = sub.add_parser("staff-add", parents=[common],
                           help="create a console staff account (reads the password from stdin)")
    staff.add_argument("username")
    staff.add_argument("--role", required=True,
                       choices=["reviewer", "fleet_operator", "auditor", "administrator"])
    staff.add_argument("--name", default="", help="display name")
    return parser


def _services(config: BackendConfig, embedded: bool, create_key: bool = False):  # type: ignore[no-untyped-def]
    if embedded:
        from backend.embedded import prepare_embedded

        return prepare_embedded(config)
    from backend.server import prepare

    return prepare(config, create_review_key=create_key)


def _serve(args: argparse.Namespace, config: BackendConfig) -> int:
    import uvicorn

    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    if args.embedded:
        from backend.app import create_app

        services = _services(config, embedded=True)
        print(f"kiosk-backend (embedded, {config.database.dsn}) on http://{host}:{port}", flush=True)
        from backend.console.demo import banner

        print(banner(f"http://{host}:{port}"), flush=True)
        uvicorn.run(create_app(services), host=host, port=port, log_config=None, access_log=False)
        return 0
    if args.workers > 1:
        from backend.server import SITE_CONFIG_ENV

        if args.config:
            os.environ[SITE_CONFIG_ENV] = str(args.config.resolve())
        _services(config, embedded=False)     # migrate once before the workers start
        uvicorn.run("backend.server:create_from_environment", factory=True, host=host, port=port,
                    workers=args.workers, log_config=None, access_log=False)
        return 0
    from backend.app import create_app

    services = _services(config, embedded=False)
    print(f"kiosk-backend on http://{host}:{port}", flush=True)
    uvicorn.run(create_app(services), host=host, port=port, log_config=None, access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # JSON lines on stderr with ID numbers masked and 6-digit runs blanked (kiosk/logs.py).
    from kiosk.logs import setup_logging

    setup_logging(None, level="INFO", console=True)
    try:
        config = load_backend_config(args.config)
        if args.embedded:
            from backend.embedded import embedded_config

            config = embedded_config(config, args.data_dir.resolve() if args.data_dir else None)
        elif not config.database.dsn:
            print("kiosk-backend: no database; set BACKEND__DATABASE__DSN=postgresql://... "
                  "(or use --embedded for the demo store)", file=sys.stderr)
            return EXIT_CONFIG
        command = args.command or "serve"
        if command == "serve":
            return _serve(args, config)
        if command == "migrate":
            _services(config, args.embedded)
            print("database schema is up to date")
            return 0
        if command == "seed":
            from backend.seed import apply_seed

            counts = apply_seed(_services(config, args.embedded).engine,
                                json.loads(args.file.read_text(encoding="utf-8")))
            print(f"seeded {counts['persons']} persons and {counts['bank_accounts']} bank test accounts")
            return 0
        if command == "token":
            from backend.auth import issue_enrollment_token

            issued = issue_enrollment_token(_services(config, args.embedded), args.kiosk_id, args.role, args.rekey)
            print(issued["token"])
            print(f"(one use, expires {issued['expires_at']})", file=sys.stderr)
            return 0
        if command == "staff-add":
            from backend.console.accounts import AccountError, create_user, provisioning_uri

            password = sys.stdin.readline().rstrip("\n")
            try:
                secret = create_user(_services(config, args.embedded), args.username, args.name or args.username,
                                     args.role, password)
            except AccountError as exc:
                print(f"kiosk-backend: {exc}", file=sys.stderr)
                return EXIT_PROBLEM
            print(f"created {args.username} ({args.role}). TOTP secret, shown once: {secret}")
            print(provisioning_uri(secret, args.username))
            return 0
        if command == "keys":
            from backend.crypto import load_or_create_review_key

            path = resolve(config.keys.review_private_key)
            existed = path.is_file()
            load_or_create_review_key(path, create=True)
            print(f"{path}: {'kept the existing key' if existed else 'created'}")
            return 0
    except ConfigError as exc:
        print(f"kiosk-backend: configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (FileNotFoundError, ValueError) as exc:
        print(f"kiosk-backend: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except Exception as exc:
        from backend.errors import ApiError

        if isinstance(exc, ApiError):
            print(f"kiosk-backend: {exc.reason}", file=sys.stderr)
            return EXIT_PROBLEM
        raise
    return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
