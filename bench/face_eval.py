"""models.eval on the shared test images (laid out as a labelled folder in a temp dir).

    .venv/bin/python bench/face_eval.py

Far too few images for error-rate claims: this shows the tool and the score margins.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.eval import main  # noqa: E402

SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")) / "testdata" / "faces"
LAYOUT = {
    "match/obama": ["face_recognition/obama.jpg", "face_recognition/obama2.jpg", "face_recognition/obama3.jpg",
                    "face_recognition/obama-480p.jpg", "face_recognition/obama_small.jpg"],
    "match/biden": ["face_recognition/biden.jpg", "face_recognition/biden_biden2.jpg"],
    "match/silentface_person": ["silentface/image_T1.jpg"],
    "live": ["silentface/image_T1.jpg"],
    "attack": ["silentface/image_F1.jpg", "silentface/image_F2.jpg"],
}

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for folder, files in LAYOUT.items():
            (Path(tmp) / folder).mkdir(parents=True)
            for rel in files:
                (Path(tmp) / folder / Path(rel).name).symlink_to(SHARED / rel)
        sys.exit(main([tmp, *sys.argv[1:]]))
