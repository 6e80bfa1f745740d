"""Command line: `kiosk` (run), `kiosk doctor`, `kiosk config check FILE`, `kiosk models install`,
`kiosk enroll`, `kiosk operator hash-secret`.

Every failure a person can fix prints one clear line and exits non-zero; no traceback.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import sys
from pathlib import Path

from kiosk.config import ConfigError, KioskConfig, load_config

EXIT_CONFIG = 2
EXIT_PROBLEM = 1


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="demo (default), office or field; or set KIOSK_PROFILE")
    parser.add_argument("--config", type=Path, help="a site TOML file applied over the profile")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Social-security card self-service kiosk")
    _add_config_args(parser)
    parser.add_argument("--windowed", action="store_true", help="development: a normal window, not fullscreen")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="start the kiosk (the default)")
    _add_config_args(run)
    run.add_argument("--windowed", action="store_true", help="development: a normal window, not fullscreen")

    doctor = sub.add_parser("doctor", help="check devices, models, store, backend and clock")
    _add_config_args(doctor)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a site TOML file over a profile")
    check.add_argument("file", type=Path)
    check.add_argument("--profile", help="profile the file is applied over (default: the file's [kiosk] profile)")

    models = sub.add_parser("models", help="face model tools")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    install = models_sub.add_parser("install", help="verify and convert model weights for onnxruntime")
    _add_config_args(install)
    install.add_argument("--from", dest="source", type=Path, required=True,
                         help="folder with the MiniFASNet .pth files (e.g. ../shared/models/minifasnet)")
    install.add_argument("--to", dest="target", type=Path, help="output folder (default: face.models_dir)")

    enroll = sub.add_parser("enroll", help="create this kiosk's signing key and register it at the backend")
    _add_config_args(enroll)
    enroll.add_argument("--token", help="operator enrollment token issued by the backend")

    rotate = sub.add_parser("rotate-key", help="replace this kiosk's signing key (the backend accepts it under "
                                               "the old key's signature); finishes an interrupted rotation")
    _add_config_args(rotate)

    outbox = sub.add_parser("outbox", help="records the backend refused for good (dead letters)")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    _add_config_args(outbox_sub.add_parser("list", help="list the dead letters with the backend's reasons"))
    requeue = outbox_sub.add_parser("requeue", help="send dead letters again, once their cause is fixed")
    _add_config_args(requeue)
    requeue.add_argument("seq", type=int, nargs="*", help="record numbers (#seq in the list)")
    requeue.add_argument("--all", action="store_true", help="every dead letter")

    operator = sub.add_parser("operator", help="operator tools")
    op_sub = operator.add_subparsers(dest="operator_command", required=True)
    op_sub.add_parser("hash-secret", help="hash an operator exit secret for ui.operator_secret_hash")
    return parser


def _load(args: argparse.Namespace) -> KioskConfig:
    return load_config(getattr(args, "profile", None), getattr(args, "config", None))


def _config_check(args: argparse.Namespace) -> int:
    from kiosk.config.loader import read_toml

    profile = args.profile
    if profile is None:
        profile = read_toml(args.file).get("kiosk", {}).get("profile", "demo")
    config = load_config(profile, args.file)
    print(f"{args.file}: OK (profile {config.kiosk.profile}, kiosk {config.kiosk.id})")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from kiosk.doctor import Verdict, format_table, run_checks

    results = run_checks(_load(args))
    print(format_table(results))
    problems = [r for r in results if r.verdict is Verdict.PROBLEM]
    print(f"\n{len(results) - len(problems)} OK or warnings, {len(problems)} problem(s)")
    return EXIT_PROBLEM if problems else 0


def _delegate(module: str, function: str, args: argparse.Namespace) -> int:
    """Subcommands owned by other areas live beside their code (models/, kiosk/enroll.py)."""
    handler = getattr(importlib.import_module(module), function)
    return int(handler(_load(args), args) or 0)


def _hash_secret() -> int:
    from kiosk.operator_secret import hash_secret

    first = getpass.getpass("New operator secret: ")
    if len(first) < 6:
        print("The secret must have at least 6 characters.", file=sys.stderr)
        return EXIT_PROBLEM
    if getpass.getpass("Again: ") != first:
        print("The two entries differ; nothing was changed.", file=sys.stderr)
        return EXIT_PROBLEM
    print(hash_secret(first))
    return 0


def _refuse_virtual_reader(args: argparse.Namespace) -> int | None:
    """Outside the demo, a system pcscd with vpcd enabled takes 'cards' from the network: do not start."""
    from kiosk.appliance.pcsc_guard import VirtualReaderEnabled, refuse_vpcd_outside_demo

    config = _load(args)
    try:
        refuse_vpcd_outside_demo(config.kiosk.profile, config.smartcard.backend)
    except VirtualReaderEnabled as exc:
        print(f"The kiosk will not start: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in (None, "run"):
            if (refused := _refuse_virtual_reader(args)) is not None:
                return refused
            return _delegate("ui.main", "run", args)
        if args.command == "doctor":
            return _doctor(args)
        if args.command == "config":
            return _config_check(args)
        if args.command == "models":
            return _delegate("models.install", "install_command", args)
        if args.command == "outbox":
            return _delegate("kiosk.outbox_cli", "outbox_command", args)
        if args.command == "enroll":
            return _delegate("kiosk.enroll", "enroll_command", args)
        if args.command == "operator":
            return _hash_secret()
        if args.command == "rotate-key":
            return _delegate("kiosk.rotate", "rotate_command", args)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        print("Fix the file (or environment variable) named above, then run `kiosk config check`.",
              file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
