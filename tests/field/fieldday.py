"""Field area fixtures: the real backend (its own process) on the real PostgreSQL, the real face
models and images, and a field kiosk process built by kiosk.app.build_kiosk from the field profile
plus a site file with simulated devices. Nothing here stands in for a device or the backend."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (the shared session fixture)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "sync"))   # the sync area's BackendProcess (real backend as a process)
SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared"))
FACES = SHARED / "testdata" / "faces"
MODELS = ROOT / "var" / "models"

OPERATOR_PASSWORD = "field-pass-2026"
OPERATOR_CARD_ID = "440106198003071234"
OPERATOR_CARD_PIN = "246810"


def face(rel: str) -> Path:
    path = FACES / rel
    if not path.is_file():
        pytest.fail(f"missing test image {path}: the field tests need ../shared/testdata/faces "
                    "(set KIOSK_SHARED_DIR)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    if not (MODELS / "manifest.json").is_file():
        pytest.fail(f"face models not installed in {MODELS}: run `bash scripts/setup.sh` "
                    "(it runs `kiosk models install`)", pytrace=False)
    return MODELS


@pytest.fixture(scope="session")
def templates(models_dir: Path) -> dict[str, str]:
    """Enrolled templates (base64 float32[128]) made from the shared images by the real pipeline."""
    import cv2

    from models.factory import make_pipeline

    pipeline = make_pipeline(models_dir=models_dir, threads=1)
    out = {}
    for key, rel in {"T1": "silentface/image_T1.jpg", "obama": "face_recognition/obama.jpg",
                     "obama3": "face_recognition/obama3.jpg"}.items():
        tpl = pipeline.template_from_image(cv2.imread(str(face(rel))))
        out[key] = base64.b64encode(tpl.to_bytes()).decode()
        tpl.wipe()
    return out


@pytest.fixture(scope="module")
def backend_dsn(pg_cluster: PgCluster) -> str:  # noqa: F811
    return pg_cluster.create_database("field")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, backend_dsn: str):  # type: ignore[no-untyped-def]
    from synchelpers import BackendProcess

    proc = BackendProcess(backend_dsn, tmp_path_factory.mktemp("backend"))
    proc.start()
    yield proc
    proc.close()


def operator_call(backend, method: str, path: str, body: dict) -> dict:  # type: ignore[no-untyped-def]
    r = httpx.request(method, f"{backend.url}{path}", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {backend.operator_token}"})
    assert r.status_code in (200, 201), r.text
    return r.json()


def write_site(tmp: Path, backend_url: str, models_dir: Path, **field: object) -> Path:
    power = tmp / "power" / "BAT0"
    power.mkdir(parents=True, exist_ok=True)
    for name, value in {"type": "Battery", "present": "1", "capacity": "80", "status": "Discharging"}.items():
        (power / name).write_text(value + "\n")
    (tmp / "camera.jpg").write_bytes(face("silentface/image_T1.jpg").read_bytes())
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in field.items())
    site = tmp / "site.toml"
    site.write_text(f"""
[kiosk]
id = "field-kiosk-01"
data_dir = "{tmp / 'data'}"
[ui]
fullscreen = false
[smartcard]
backend = "virtual"
[pinpad]
backend = "simulator"
[camera]
backend = "still"
source = "{tmp / 'camera.jpg'}"
[face]
models_dir = "{models_dir}"
active_challenge = false
decision_timeout_s = 6.0
max_attempts = 1
[backend]
url = "{backend_url}"
timeout_s = 2.0
backoff_initial_s = 0.1
backoff_max_s = 0.5
idle_poll_s = 0.5
[field]
power_supply_dir = "{tmp / 'power'}"
roster_kdf_n = 16384
{extra}""")
    return site


class KioskProcess:
    """tests/field/field_proc.py as a child process; ``call`` sends one command, returns its answer."""

    def __init__(self, site: Path, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "field" / "field_proc.py"), str(site)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"),
                                     cwd=ROOT, text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        ready = self._read(120)
        assert ready.get("ready"), ready

    def _read(self, timeout_s: float) -> dict:
        import select

        assert self.proc.stdout is not None
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                line = self.proc.stdout.readline()
                if not line:
                    break
                return json.loads(line)
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"the kiosk process did not answer: {self.log.read_text()[-3000:]}")

    def call(self, cmd: str, timeout_s: float = 60, **args: object) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        answer = self._read(timeout_s)
        assert "trace" not in answer, answer
        return answer

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def exit(self) -> None:
        try:
            self.call("exit", timeout_s=5)
        except AssertionError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
