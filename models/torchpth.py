"""Read a PyTorch ``state_dict`` file into numpy arrays without torch (install time only).

Both on-disk forms are handled: the zip form (``archive/data.pkl`` + ``archive/data/<key>``) and the
legacy form (magic, protocol, sys-info and the object pickled one after another, then the list of
storage keys, then each storage's raw bytes preceded by its element count).

The unpickler is restricted: it resolves only the few globals a state dict needs
(``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``, the storage type names) and
refuses everything else, so a hostile weight file cannot run code.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class WeightFileError(ValueError):
    """The file is not a state dict this reader accepts."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A lazily filled flat buffer (legacy files hold the bytes after the pickle)."""

    def __init__(self, dtype: np.dtype[Any], numel: int | None) -> None:
        self.dtype = dtype
        self.numel = numel
        self.array: np.ndarray | None = None


class _LazyTensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialize(self) -> np.ndarray:
        flat = self.storage.array
        if flat is None:
            raise WeightFileError("a tensor refers to a storage that the file does not contain")
        if not self.size:
            return np.array(flat[self.offset], dtype=flat.dtype)
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], shape=self.size, strides=tuple(s * itemsize for s in self.stride))
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                       requires_grad: bool = False, backward_hooks: Any = None, metadata: Any = None) -> _LazyTensor:
    return _LazyTensor(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, load_storage: Callable[[tuple[Any, ...]], _Storage]) -> None:
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise WeightFileError(f"refusing to load {module}.{name} from a weight file")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise WeightFileError(f"unexpected persistent id {pid!r:.60}")
        return self._load_storage(pid)


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The file's tensors as numpy arrays, keyed as in the file."""
    data = Path(path).read_bytes()
    if data[:4] == b"PK\x03\x04":
        raw = _load_zip(data)
    else:
        raw = _load_legacy(data)
    if not isinstance(raw, dict):
        raise WeightFileError("the file does not hold a state dict")
    out: dict[str, np.ndarray] = {}
    for key, value in raw.items():
        if not isinstance(value, _LazyTensor):
            raise WeightFileError(f"entry {key!r} is not a tensor")
        out[str(key)] = value.materialize()
    return out


def _load_zip(data: bytes) -> Any:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
    if pkl is None:
        raise WeightFileError("zip weight file without data.pkl")
    prefix = pkl[: -len("data.pkl")]
    storages: dict[str, _Storage] = {}

    def load_storage(pid: tuple[Any, ...]) -> _Storage:
        _, storage_type, key, _location, numel = pid[:5]
        key = str(key)
        if key not in storages:
            dtype = storage_type.dtype
            raw = archive.read(f"{prefix}data/{key}")
            storage = _Storage(dtype, int(numel))
            storage.array = np.frombuffer(raw, dtype=dtype)
            storages[key] = storage
        return storages[key]

    return _Unpickler(io.BytesIO(archive.read(pkl)), load_storage).load()


def _load_legacy(data: bytes) -> Any:
    stream = io.BytesIO(data)

    def plain() -> Any:
        return _Unpickler(stream, _no_storage).load()

    if plain() != LEGACY_MAGIC:
        raise WeightFileError("not a PyTorch weight file (bad magic number)")
    if plain() != 1001:
        raise WeightFileError("unsupported PyTorch legacy protocol version")
    sys_info = plain()
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise WeightFileError("big-endian weight files are not supported")
    storages: dict[str, _Storage] = {}

    def load_storage(pid: tuple[Any, ...]) -> _Storage:
        _, storage_type, key, _location, numel = pid[:5]
        key = str(key)
        if key not in storages:
            storages[key] = _Storage(storage_type.dtype, int(numel))
        return storages[key]

    result = _Unpickler(stream, load_storage).load()
    keys = plain()
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise WeightFileError(f"storage {key} is not referenced by the state dict")
        (count,) = struct.unpack("<q", stream.read(8))
        nbytes = count * storage.dtype.itemsize
        raw = stream.read(nbytes)
        if len(raw) != nbytes:
            raise WeightFileError("weight file is truncated")
        storage.array = np.frombuffer(raw, dtype=storage.dtype)
    return result


def _no_storage(pid: tuple[Any, ...]) -> _Storage:
    raise WeightFileError("unexpected storage reference in a header pickle")
