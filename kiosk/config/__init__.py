"""Kiosk configuration: TOML base + profile + site file + environment, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiosk.config.loader import DEFAULT_CONFIG_DIR, PROJECT_ROOT, ConfigError, load_layers
from kiosk.config.schema import KioskConfig

__all__ = ["PROJECT_ROOT", "ConfigError", "KioskConfig", "load_config", "resolve_path"]


def load_config(profile: str | None = None, site_file: Path | None = None,
                config_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> KioskConfig:
    """Load ``base.toml``, the profile, an optional site file and ``KIOSK__*`` overrides."""
    env = os.environ if environ is None else environ
    config_dir = config_dir or Path(env.get("KIOSK_CONFIG_DIR", DEFAULT_CONFIG_DIR))
    profile = profile or env.get("KIOSK_PROFILE", "demo")
    layers = [config_dir / "base.toml", config_dir / "profiles" / f"{profile}.toml"]
    if site_file is not None:
        layers.append(site_file)
    config: KioskConfig = load_layers(KioskConfig, layers, env)
    if config.kiosk.profile != profile:
        raise ConfigError(str(layers[1]), "kiosk.profile",
                          f"expected {profile!r} to match the profile file's name, got {config.kiosk.profile!r}")
    return config


def resolve_path(value: str, base: Path = PROJECT_ROOT) -> Path:
    """Config paths are relative to the project root unless absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()
