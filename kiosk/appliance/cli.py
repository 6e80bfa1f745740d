"""`kiosk-appliance`: release keys, signed bundles, install and update (run as root on the kiosk).

    kiosk-appliance keygen --out release-signing.key      # key ceremony (docs/deploy.md)
    kiosk-appliance build --source . --version 1.2.0 --key release-signing.key --out 1.2.0.kbundle
    kiosk-appliance verify 1.2.0.kbundle [--keys /etc/sscard-kiosk/release-keys]
    kiosk-appliance install 1.2.0.kbundle [--root /opt/sscard-kiosk]        # first install: switch, no restart
    kiosk-appliance install-source . --version dev [--deps-from .venv]       # development / CI
    kiosk-appliance update [BUNDLE | --incoming DIR]                         # the update service

Each failure prints one line saying what happened and what to do, and exits non-zero.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from kiosk.appliance.bundle import (
    BundleError,
    build_bundle,
    generate_key,
    load_private_key,
    trusted_keys,
    verify_bundle,
)
from kiosk.appliance.install import InstallError, install_beside, install_source
from kiosk.appliance.layout import DEFAULT_ROOT, Layout, switch_to
from kiosk.appliance.state import SYSTEM_STATE_FILE
from kiosk.appliance.update import (
    HISTORY,
    KEYS_DIR,
    KIOSK_UNIT,
    SystemdService,
    UpdatePolicy,
    apply_incoming,
    apply_update,
)

PASSPHRASE_ENV = "KIOSK_RELEASE_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


def _passphrase(confirm: bool) -> bytes | None:
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV].encode()
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Release key passphrase: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise BundleError("the two passphrases differ; no key was written")
    return first.encode() or None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk-appliance", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keygen", help="make a release signing key (Ed25519) and its .pub")
    k.add_argument("--out", type=Path, required=True)
    b = sub.add_parser("build", help="pack and sign a release bundle")
    b.add_argument("--source", type=Path, default=Path("."))
    b.add_argument("--version", required=True)
    b.add_argument("--key", type=Path, required=True)
    b.add_argument("--wheels", type=Path, help="folder of wheels for every pinned dependency (pip wheel)")
    b.add_argument("--out", type=Path, required=True)
    v = sub.add_parser("verify", help="check a bundle's signature and payload; unpacks nothing")
    v.add_argument("bundle", type=Path)
    v.add_argument("--keys", type=Path, default=KEYS_DIR)
    for name in ("install", "install-source", "update"):
        s = sub.add_parser(name)
        s.add_argument("--root", type=Path, default=DEFAULT_ROOT)
        s.add_argument("--keys", type=Path, default=KEYS_DIR)
        s.add_argument("--python", default="python3", help="interpreter for the release's virtual environment")
        s.add_argument("--deps-from", type=Path, help="development/CI: reuse this venv's packages")
        if name == "install":
            s.add_argument("bundle", type=Path)
        elif name == "install-source":
            s.add_argument("source", type=Path)
            s.add_argument("--version", required=True)
        else:
            s.add_argument("bundle", type=Path, nargs="?")
            s.add_argument("--incoming", type=Path)
            s.add_argument("--unit", default=KIOSK_UNIT)
            s.add_argument("--state", type=Path, default=SYSTEM_STATE_FILE)
            s.add_argument("--history", type=Path, default=HISTORY)
            s.add_argument("--health-timeout", type=float, default=180.0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        return _dispatch(args)
    except (BundleError, InstallError) as exc:
        print(f"kiosk-appliance: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "keygen":
        if args.out.exists():
            raise BundleError(f"{args.out} exists; a release key is never overwritten")
        kid = generate_key(args.out, _passphrase(confirm=True))
        print(f"release key {kid}: private {args.out}, public {args.out.parent / (kid + '.pub')}")
        return 0
    if args.command == "build":
        key = load_private_key(args.key, _passphrase(confirm=False))
        out = build_bundle(args.source, args.version, key, args.out, args.wheels)
        print(f"{out}: version {args.version} signed")
        return 0
    if args.command == "verify":
        bundle = verify_bundle(args.bundle, trusted_keys(args.keys))
        print(f"{args.bundle}: OK, version {bundle.version}, key {bundle.key_id}, sha256 {bundle.sha256}")
        return 0
    layout = Layout(args.root)
    if args.command == "install":
        bundle = verify_bundle(args.bundle, trusted_keys(args.keys))
        release = install_beside(bundle, layout, python=args.python, deps_from=args.deps_from)
        switch_to(layout, release)
        print(f"installed {release.name}; current -> {release.name}")
        return 0
    if args.command == "install-source":
        release = install_source(args.source, args.version, layout, python=args.python, deps_from=args.deps_from)
        switch_to(layout, release)
        print(f"installed {release.name} from source; current -> {release.name}")
        return 0
    policy = UpdatePolicy(state_file=args.state, health_timeout_s=args.health_timeout, python=args.python,
                          deps_from=args.deps_from)
    service = SystemdService(args.unit)
    if args.incoming is not None:
        outcomes = apply_incoming(args.incoming, layout, service, policy, args.keys, args.history)
    elif args.bundle is not None:
        outcomes = [apply_update(args.bundle, layout, service, policy, args.keys, args.history)]
    else:
        raise BundleError("name a bundle or --incoming DIR")
    for o in outcomes:
        print(f"{o.bundle}: {o.result} {o.version or ''} {o.detail}")
    return 0 if all(o.result in ("switched", "already", "not_idle") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
