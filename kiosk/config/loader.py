"""Load, merge and validate the kiosk's TOML configuration.

Order of precedence (later wins): ``config/base.toml`` -> ``config/profiles/<profile>.toml`` ->
an optional site file (``--config FILE``) -> environment variables ``KIOSK__SECTION__KEY=value``.
Every value remembers which file (or variable) set it, so an error can name the file, the key
and what was expected: the operator fixing a kiosk at 7 a.m. should not have to guess.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "KIOSK__"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"


class ConfigError(Exception):
    """A configuration problem, worded for the operator who has to fix it."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: [{key}] {problem}")


def read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(str(path), "-", "file not found; check the path and the --profile name")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "-", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot be read: {exc.strerror}") from exc


def _merge(into: dict[str, Any], sources: dict[str, str], data: Mapping[str, Any], source: str,
           prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], sources, value, source, dotted + ".")
        else:
            into[key] = value
            sources[dotted] = source
            if isinstance(value, dict):
                for sub in _walk_keys(value, dotted + "."):
                    sources[sub] = source


def _walk_keys(data: Mapping[str, Any], prefix: str) -> list[str]:
    keys = []
    for key, value in data.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys.extend(_walk_keys(value, prefix + key + "."))
    return keys


def _env_overrides(environ: Mapping[str, str]) -> list[tuple[str, list[str], str]]:
    """``KIOSK__PINPAD__PORT=/dev/epp`` -> ("KIOSK__PINPAD__PORT", ["pinpad", "port"], "/dev/epp")."""
    found = []
    for name, raw in sorted(environ.items()):
        if name.startswith(ENV_PREFIX):
            path = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
            if path:
                found.append((name, path, raw))
    return found


def _parse_env_value(raw: str, expected: Any) -> Any:
    """Environment values are strings; read them as the schema's type (TOML syntax for lists)."""
    origin = typing.get_origin(expected)
    if expected is str or (origin in (typing.Union, types.UnionType) and str in typing.get_args(expected)):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        (inner,) = typing.get_args(tp)
        return f"a list of {_type_name(inner)}"
    if tp is type(None):
        return "nothing"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _coerce(value: Any, tp: Any, key: str, sources: Mapping[str, str]) -> Any:
    source = sources.get(key, "<defaults>")
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(source, key, f"expected a table [{key}], got {type(value).__name__}")
        return build_section(tp, value, key, sources)
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, key, sources)
            except ConfigError:
                continue
        raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
        return [_coerce(v, inner, f"{key}[{i}]", {**sources, f"{key}[{i}]": source})
                for i, v in enumerate(value)]
    if tp is type(None):
        if value is not None:
            raise ConfigError(source, key, f"expected nothing, got {value!r}")
        return None
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is bool and not isinstance(value, bool):
        raise ConfigError(source, key, f"expected true or false, got {value!r}")
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(source, key, f"expected an integer, got {value!r}")
    if not isinstance(value, tp):
        raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
    return value


def build_section(cls: type, data: Mapping[str, Any], prefix: str, sources: Mapping[str, str]) -> Any:
    """Build dataclass ``cls`` from a TOML table, refusing unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            dotted = f"{prefix}.{key}" if prefix else key
            known = ", ".join(sorted(fields))
            raise ConfigError(sources.get(dotted, "<unknown>"), dotted,
                              f"unknown key; expected one of: {known}")
    kwargs = {}
    for name, field in fields.items():
        dotted = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _coerce(data[name], hints[name], dotted, sources)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(prefix or "<config>", dotted, f"missing; expected {_type_name(hints[name])}")
    instance = cls(**kwargs)
    check = getattr(instance, "validate", None)
    if check is not None:
        problem = check()
        if problem:
            key, message = problem
            dotted = f"{prefix}.{key}" if prefix else key
            raise ConfigError(sources.get(dotted, "<defaults>"), dotted, message)
    return instance


def _expected_type_at(root: type, path: list[str]) -> Any:
    tp: Any = root
    for part in path:
        if not dataclasses.is_dataclass(tp):
            return None
        hints = typing.get_type_hints(tp)
        if part not in hints:
            return None
        tp = hints[part]
    return tp


def load_layers(root: type, layers: list[Path], environ: Mapping[str, str] | None = None) -> Any:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for path in layers:
        _merge(merged, sources, read_toml(path), str(path))
    for name, path, raw in _env_overrides(os.environ if environ is None else environ):
        expected = _expected_type_at(root, path)
        target = merged
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(name, ".".join(path), "overrides a value that is not a table")
        target[path[-1]] = _parse_env_value(raw, expected)
        sources[".".join(path)] = f"environment variable {name}"
    return build_section(root, merged, "", sources)
