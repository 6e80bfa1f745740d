"""The field profile on a PC, in one command (README, "Field profile demo"):

    .venv/bin/python scripts/field_demo.py [--windowed]

The field profile with ``config/field-demo.toml`` over it: virtual card reader, simulated PIN pad,
the demo camera's still picture, the embedded backend with the demo people. It creates the demo
operator at the embedded backend (id ``demo-op``, password ``field-demo-2026``, districts 天河区,
越秀区, 荔湾区), downloads the signed operator list, then starts the kiosk. Sign in with that id and
password, download the roster on the staff console (工作人员 -> roster), and certify from it.
Demo only: a real field kiosk gets its operators from the office (docs/field.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_OPERATOR = "demo-op"
DEMO_PASSWORD = "field-demo-2026"  # noqa: S105 - the documented demo password, demo only
DEMO_NAME = "演示工作人员"
DEMO_DISTRICTS = ["天河区", "越秀区", "荔湾区"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    args = parser.parse_args()
    os.chdir(ROOT)                          # the site file's relative paths are the repository's

    from backend.field import upsert_operator
    from kiosk.app import build_kiosk
    from kiosk.config import load_config, resolve_path
    from kiosk.field.service import start_field
    from kiosk.logs import setup_logging
    from ui.main import run

    config = load_config("field", site_file=ROOT / "config" / "field-demo.toml")
    setup_logging(resolve_path(config.logging.dir, resolve_path(config.kiosk.data_dir)), config.logging.level,
                  config.logging.max_bytes, config.logging.backup_count)
    services = build_kiosk(config)
    try:
        if services.embedded_backend is None or services.sync is None:
            print(f"the field demo could not start: {services.problems}", file=sys.stderr)
            return 1
        upsert_operator(services.embedded_backend.services, DEMO_OPERATOR,
                        {"name": DEMO_NAME, "password": DEMO_PASSWORD, "districts": DEMO_DISTRICTS})
        field = start_field(services)       # only to download the signed operator list into the store
        try:
            field.refresh_operators()
        finally:
            field.stop()
        print(f"field demo: sign in as {DEMO_OPERATOR!r} with password {DEMO_PASSWORD!r}", flush=True)
        return run(config, args, services=services)
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
