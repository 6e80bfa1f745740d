"""A face template (SFace embedding) that never reaches a disk, a log or a repr in the clear.

The float32 vector lives in a ``bytearray`` that :meth:`FaceTemplate.wipe` zeroes. Pickling is
refused (that is how objects usually end up on disk or in a queue file); to store or send a
template, encrypt it with :func:`models.review.seal` first.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np


class FaceTemplate:
    __slots__ = ("_buf", "source")

    def __init__(self, vector: np.ndarray, source: str = "live") -> None:
        v = np.asarray(vector, dtype=np.float32).ravel()
        v = v / (np.linalg.norm(v) + 1e-12)
        self._buf = bytearray(v.tobytes())
        self.source = source                     # "live", "photo", "card": where it came from

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, source: str = "enrolled") -> FaceTemplate:
        return cls(np.frombuffer(bytes(data), dtype=np.float32), source)

    def vector(self) -> np.ndarray:
        if not any(self._buf):
            raise ValueError("template was wiped")
        return np.frombuffer(bytes(self._buf), dtype=np.float32).copy()

    def to_bytes(self) -> bytes:
        """Raw bytes for encryption by the caller (models.review.seal); never write these as is."""
        return bytes(self._buf)

    def similarity(self, other: FaceTemplate) -> float:
        return float(self.vector() @ other.vector())

    def wipe(self) -> None:
        self._buf[:] = b"\x00" * len(self._buf)

    def __repr__(self) -> str:
        return f"<FaceTemplate {len(self._buf) // 4}-d from {self.source}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a face template cannot be pickled: encrypt it with models.review.seal")
