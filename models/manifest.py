"""The model manifest: the sha256 of every model file the kiosk accepts.

``kiosk models install`` writes ``manifest.json`` beside the converted files. At run time a model is
read into memory once, hashed, compared with the manifest and only then handed to its runtime from
that same buffer, so a file swapped after the check cannot be loaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

# Logical model names the runtime asks for -> file names in the models folder.
MODEL_FILES = {
    "yunet": "face_detection_yunet_2023mar_f32.onnx",
    "sface": "face_recognition_sface_2021dec_f32.onnx",
    "minifasnet_v2": "minifasnet_v2_2.7_80x80.onnx",
    "minifasnet_v1se": "minifasnet_v1se_4.0_80x80.onnx",
}
# Installed when their source (the mediapipe wheel) could be had; blink and open-mouth challenges need
# the mesh; the eye model refines the lids for the blink, the attention mesh's two parts the lips for
# the open mouth (without them the mesh's own lids and lips are read).
OPTIONAL_MODEL_FILES = {
    "facemesh": "face_landmark_468.onnx",
    "eyes": "iris_landmark_71.onnx",
    "lips_backbone": "face_landmark_attention_backbone.onnx",
    "lips": "face_landmark_attention_lips.onnx",
}


class ModelIntegrityError(RuntimeError):
    """A model file is missing, unlisted or does not match the manifest."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    directory: Path
    files: dict[str, str]          # file name -> sha256
    sources: dict[str, str]        # source file name -> sha256 it was built from

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelIntegrityError(f"no model manifest at {path}: run `kiosk models install`") from None
        except (OSError, ValueError) as exc:
            raise ModelIntegrityError(f"model manifest {path} unreadable: {exc}") from None
        if data.get("version") != MANIFEST_VERSION or not isinstance(data.get("files"), dict):
            raise ModelIntegrityError(f"model manifest {path} has an unknown format: run `kiosk models install`")
        return cls(Path(directory), {str(k): str(v) for k, v in data["files"].items()},
                   {str(k): str(v) for k, v in data.get("sources", {}).items()})

    def write(self) -> None:
        body = {"version": MANIFEST_VERSION, "files": dict(sorted(self.files.items())),
                "sources": dict(sorted(self.sources.items()))}
        tmp = self.directory / (MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.directory / MANIFEST_NAME)

    def read_verified(self, file_name: str) -> bytes:
        """The file's bytes, only if its sha256 is the one the manifest lists."""
        expected = self.files.get(file_name)
        if expected is None:
            raise ModelIntegrityError(f"{file_name} is not listed in the model manifest")
        path = self.directory / file_name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelIntegrityError(f"model file {path} unreadable: {exc.strerror}") from None
        if sha256_bytes(data) != expected:
            raise ModelIntegrityError(f"model file {path} does not match the manifest (sha256 differs): "
                                      "reinstall the models with `kiosk models install`")
        return data

    def model(self, name: str) -> bytes:
        """Verified bytes of a logical model (``yunet``, ``sface``, ``minifasnet_v2``, ``minifasnet_v1se``)."""
        return self.read_verified(MODEL_FILES.get(name) or OPTIONAL_MODEL_FILES[name])

    def has(self, name: str) -> bool:
        """Is an optional model listed (installed)?"""
        return OPTIONAL_MODEL_FILES.get(name, MODEL_FILES.get(name, "")) in self.files

    def verify_all(self) -> list[str]:
        """Problems found (empty when every listed model is present and intact)."""
        problems = []
        for file_name in [*MODEL_FILES.values(), *(f for f in OPTIONAL_MODEL_FILES.values() if f in self.files)]:
            try:
                self.read_verified(file_name)
            except ModelIntegrityError as exc:
                problems.append(str(exc))
        return problems
