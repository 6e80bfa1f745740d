"""The installed demo kiosk under cage (Debian's Wayland kiosk compositor) with its headless
backend, as the unit starts it: an unprivileged user (cage refuses root), QT_QPA_PLATFORM=wayland,
the application from /opt/.../current of an install-kiosk.sh tree. A screenshot is taken through
the compositor with grim (wlr-screencopy), not from Qt.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from appliance_helpers import DEPS_FROM, ROOT

from kiosk.appliance.state import read_state

NOBODY = 65534
SHARED_DIR = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")).resolve()
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def test_demo_kiosk_runs_under_cage_headless_and_grim_sees_its_home_screen() -> None:
    for tool in ("cage", "grim", "Xwayland"):
        assert shutil.which(tool), f"{tool} missing: scripts/setup.sh installs cage, grim and xwayland"
    base = Path(tempfile.mkdtemp(prefix="kiosk-cage-", dir="/tmp"))     # readable by the kiosk user
    base.chmod(0o755)
    proc = None
    try:
        root = base / "root"
        done = subprocess.run(["bash", str(ROOT / "scripts/install-kiosk.sh"), "--from-source", "--profile", "demo",
                               "--destdir", str(root), "--deps-from", str(DEPS_FROM)],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        runtime, data = base / "run", base / "data"
        for folder in (runtime, data):
            folder.mkdir(mode=0o700)
            os.chown(folder, NOBODY, NOBODY)
        env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(runtime), "WLR_BACKENDS": "headless",
               "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1", "QT_QPA_PLATFORM": "wayland",
               "KIOSK_PROFILE": "demo", "KIOSK__KIOSK__DATA_DIR": str(data), "KIOSK__UI__VOICE_ENGINE": "none",
               "KIOSK__CAMERA__SOURCE": str(SHARED_DIR / "testdata/faces/silentface/image_T1.jpg"),
               "KIOSK__FACE__MODELS_DIR": str(ROOT / "var/models"), "KIOSK_STATE_FILE": str(runtime / "state.json")}
        python = root / "opt/sscard-kiosk/current/.venv/bin/python"
        proc = subprocess.Popen([*AS_NOBODY, "cage", "-d", "--", str(python), "-P", "-m", "kiosk.cli", "run"],
                                env=env, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not ((state := read_state(runtime / "state.json")) and state.home_ready):
            assert proc.poll() is None, f"cage exited: {proc.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "the kiosk under cage did not reach its home screen in 120 s"
            time.sleep(0.2)
        assert state.idle and state.problems == [] and state.devices["pinpad"] == "online"
        time.sleep(1.0)                                       # let the first frames reach the output
        shot = runtime / "home.png"
        grim = subprocess.run([*AS_NOBODY, "grim", str(shot)], env={**env, "WAYLAND_DISPLAY": "wayland-0"},
                              capture_output=True, text=True, timeout=30, check=False)
        assert grim.returncode == 0, grim.stderr
        image = cv2.imread(str(shot))
        assert image is not None and image.shape[2] == 3 and image.shape[0] >= 480
        # The kiosk's own colours fill the output: white background, the theme's blue title text.
        primary = np.array([0x9C, 0x4F, 0x0B])                 # PRIMARY #0B4F9C in BGR
        blue = np.count_nonzero(np.abs(image.astype(int) - primary).sum(axis=2) < 40)
        white = np.count_nonzero((image > 245).all(axis=2))
        assert white > image.shape[0] * image.shape[1] * 0.3 and blue > 2000, (white, blue)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(base, ignore_errors=True)
