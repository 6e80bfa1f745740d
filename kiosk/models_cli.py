"""`kiosk models install`: the core's adapter over models.install (config -> plain paths)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.config import KioskConfig, resolve_path
from models.install import run_install_cli


def install_command(config: KioskConfig, args: argparse.Namespace) -> int:
    target = Path(args.target) if args.target else resolve_path(config.face.models_dir)
    return run_install_cli(Path(args.source), target)
