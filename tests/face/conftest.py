"""Face area fixtures: the real images from ../shared and models installed once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
FACES = SHARED / "testdata" / "faces"
WEIGHTS = SHARED / "models" / "minifasnet"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"missing test resource {path}: the face tests need ../shared (set KIOSK_SHARED_DIR "
                    "to the folder holding testdata/faces and models/minifasnet)", pytrace=False)
    return path


def load_image(rel: str) -> np.ndarray:
    path = _require(FACES / rel)
    image = cv2.imread(str(path))
    assert image is not None, f"{path} is not a readable image"
    return image


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return _require(FACES)


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    return _require(WEIGHTS)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, weights_dir: Path) -> Path:
    from models.install import install

    target = tmp_path_factory.mktemp("face-models")
    install(weights_dir, target)
    return target


@pytest.fixture(scope="session")
def pipeline(models_dir: Path):
    from models.factory import make_pipeline

    return make_pipeline(models_dir=models_dir, threads=1)


@pytest.fixture(scope="session")
def images() -> dict[str, np.ndarray]:
    names = ["silentface/image_T1.jpg", "silentface/image_F1.jpg", "silentface/image_F2.jpg",
             "face_recognition/obama.jpg", "face_recognition/obama2.jpg", "face_recognition/obama3.jpg",
             "face_recognition/obama-480p.jpg", "face_recognition/obama_small.jpg",
             "face_recognition/biden.jpg", "face_recognition/biden_biden2.jpg", "face_recognition/two_people.jpg"]
    return {Path(n).stem: load_image(n) for n in names}
