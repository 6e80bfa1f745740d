"""Figures for the signed-update path: bundle size, build and verify time (MB/s), install beside
(unpack + venv reusing this checkout's packages), and the atomic switch.

    .venv/bin/python bench/appliance_update.py

The bundle holds this checkout's application tree without wheels; a production bundle adds the
pinned wheels (several hundred MB), so verify time scales with the printed MB/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from kiosk.appliance.bundle import build_bundle, generate_key, load_private_key, trusted_keys, verify_bundle
from kiosk.appliance.install import install_beside
from kiosk.appliance.layout import Layout, point, switch_to

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "keys").mkdir()
        generate_key(tmp / "keys" / "release.key", None)
        key = load_private_key(tmp / "keys" / "release.key", None)
        t0 = time.perf_counter()
        bundle = build_bundle(ROOT, "bench", key, tmp / "bench.kbundle")
        t1 = time.perf_counter()
        size_mb = bundle.stat().st_size / 1e6
        runs = 5
        for _ in range(runs):
            verified = verify_bundle(bundle, trusted_keys(tmp / "keys"))
        t2 = time.perf_counter()
        layout = Layout(tmp / "opt")
        release = install_beside(verified, layout, python=sys.executable, deps_from=Path(sys.prefix))
        t3 = time.perf_counter()
        switch_to(layout, release)
        n = 1000
        t4 = time.perf_counter()
        for _ in range(n):
            point(layout.current, release)
        t5 = time.perf_counter()
        verify_s = (t2 - t1) / runs
        print(f"bundle size:           {size_mb:.2f} MB (application tree, no wheels)")
        print(f"build + sign:          {(t1 - t0) * 1000:.0f} ms")
        print(f"verify (sig + sha256): {verify_s * 1000:.1f} ms  ({size_mb / verify_s:.0f} MB/s)")
        print(f"install beside:        {(t3 - t2) * 1000:.0f} ms (unpack, re-hash, venv without pip)")
        print(f"atomic switch:         {(t5 - t4) / n * 1e6:.0f} us per link rename")


if __name__ == "__main__":
    main()
