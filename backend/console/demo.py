"""Demo staff accounts for the embedded backend (demo profile only; never on a real backend).

The secrets are fixed and public, like the demo people's PINs: the demo prints them at start.
``python -m backend.console.demo code demo-reviewer`` prints an account's current TOTP code, so
the console can be tried without an authenticator app.
"""

from __future__ import annotations

import sys

import pyotp

from backend.console.accounts import AccountError, create_user
from backend.context import Services

DEMO_PASSWORD = "demo-console-2026"  # noqa: S105  (a published demo password)
DEMO_ACCOUNTS = {   # user -> (role, display name, base32 TOTP secret)
    "demo-reviewer": ("reviewer", "审核员（演示）", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    "demo-fleet": ("fleet_operator", "运维员（演示）", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
    "demo-auditor": ("auditor", "审计员（演示）", "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"),
    "demo-admin": ("administrator", "管理员（演示）", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
}


def ensure_demo_accounts(services: Services) -> None:
    for user, (role, name, secret) in DEMO_ACCOUNTS.items():
        try:
            create_user(services, user, name, role, DEMO_PASSWORD, totp_secret=secret)
        except AccountError:
            pass                          # there already


def banner(url: str) -> str:
    users = ", ".join(DEMO_ACCOUNTS)
    return (f"staff console: {url}/console/  (demo accounts {users}; password {DEMO_PASSWORD}; "
            f"code: .venv/bin/python -m backend.console.demo code demo-reviewer)")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "code" or argv[1] not in DEMO_ACCOUNTS:
        print(f"usage: python -m backend.console.demo code {{{'|'.join(DEMO_ACCOUNTS)}}}", file=sys.stderr)
        return 2
    print(pyotp.TOTP(DEMO_ACCOUNTS[argv[1]][2]).now())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
