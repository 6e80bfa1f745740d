from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.config import ConfigError, load_config
from kiosk.config.loader import DEFAULT_CONFIG_DIR


@pytest.mark.parametrize("profile", ["demo", "office", "field"])
def test_every_shipped_profile_loads(profile: str) -> None:
    config = load_config(profile, environ={})
    assert config.kiosk.profile == profile
    assert len(config.banks) == 12
    assert sum(1 for bank in config.banks if not bank.connected) == 1


def test_demo_profile_uses_simulated_devices_and_embedded_backend() -> None:
    config = load_config("demo", environ={})
    assert config.smartcard.backend == "virtual"
    assert config.pinpad.backend == "simulator"
    assert config.backend.embedded is True


def _site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    site = _site(tmp_path, "[pinpad]\nbaudrat = 9600\n")
    with pytest.raises(ConfigError) as err:
        load_config("demo", site, environ={})
    assert err.value.source == str(site)
    assert err.value.key == "pinpad.baudrat"
    assert "baudrate" in err.value.problem  # tells the operator what was expected


def test_wrong_type_names_expected_type(tmp_path: Path) -> None:
    site = _site(tmp_path, "[ui]\nidle_timeout_s = \"sixty\"\n")
    with pytest.raises(ConfigError) as err:
        load_config("demo", site, environ={})
    assert err.value.key == "ui.idle_timeout_s"
    assert "integer" in err.value.problem


def test_bool_is_not_accepted_as_integer(tmp_path: Path) -> None:
    site = _site(tmp_path, "[ui]\ncountdown_s = true\n")
    with pytest.raises(ConfigError, match="countdown_s"):
        load_config("demo", site, environ={})


def test_literal_choices_are_enforced(tmp_path: Path) -> None:
    site = _site(tmp_path, "[smartcard]\nbackend = \"usb\"\n")
    with pytest.raises(ConfigError) as err:
        load_config("demo", site, environ={})
    assert "'pcsc'" in err.value.problem and "'virtual'" in err.value.problem


def test_semantic_validation_names_the_key(tmp_path: Path) -> None:
    site = _site(tmp_path, "[policy]\ninitial_pin = \"12345\"\n")
    with pytest.raises(ConfigError) as err:
        load_config("demo", site, environ={})
    assert err.value.key == "policy.initial_pin"
    assert err.value.source == str(site)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config("demo", tmp_path / "nope.toml", environ={})


def test_unknown_profile_is_reported() -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config("kitchen", environ={})


def test_corrupt_toml_is_reported(tmp_path: Path) -> None:
    site = _site(tmp_path, "[ui\nvoice = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config("demo", site, environ={})


def test_environment_overrides_single_keys() -> None:
    config = load_config("demo", environ={"KIOSK__PINPAD__PORT": "/dev/ttyUSB7", "KIOSK__UI__IDLE_TIMEOUT_S": "90",
                                          "KIOSK__UI__VOICE": "false"})
    assert config.pinpad.port == "/dev/ttyUSB7"
    assert config.ui.idle_timeout_s == 90
    assert config.ui.voice is False


def test_bad_environment_override_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("demo", environ={"KIOSK__UI__IDLE_TIMEOUT_S": "soon"})
    assert "KIOSK__UI__IDLE_TIMEOUT_S" in err.value.source


def test_unknown_environment_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        load_config("demo", environ={"KIOSK__UI__IDLE_TIMEOUT": "90"})


def test_profile_name_must_match_its_file(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "base.toml").write_text((DEFAULT_CONFIG_DIR / "base.toml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    (tmp_path / "profiles" / "office.toml").write_text("[kiosk]\nprofile = \"field\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kiosk\.profile"):
        load_config("office", config_dir=tmp_path, environ={})


def test_config_check_command_reports_broken_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path, "[kiosk]\nprofile = \"office\"\n[camera]\nfsp = 30\n")
    assert kiosk_main(["config", "check", str(site)]) == 2
    err = capsys.readouterr().err
    assert "camera.fsp" in err and str(site) in err


def test_config_check_command_accepts_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path, "[kiosk]\nprofile = \"office\"\nid = \"GZ-TH-0042\"\n")
    assert kiosk_main(["config", "check", str(site)]) == 0
    assert "GZ-TH-0042" in capsys.readouterr().out


def test_doctor_names_the_broken_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KIOSK__FACE__MATCH_THRESHOLD", "2.5")
    assert kiosk_main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "face.match_threshold" in err and "KIOSK__FACE__MATCH_THRESHOLD" in err


def test_doctor_on_the_demo_profile_is_all_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Needs the models installed by scripts/setup.sh; the demo's simulated devices, store, key
    and embedded backend must all check OK (no WARN, no PROBLEM)."""
    monkeypatch.setenv("KIOSK__KIOSK__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KIOSK__BACKEND__URL", "http://127.0.0.1:0")
    assert kiosk_main(["doctor"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines()[2:] if line.strip() and not line.startswith(" ")][:-1]
    verdicts = {line.split()[0]: line for line in rows}
    assert all(" OK " in line for line in rows), out
    assert {"card", "PIN", "camera", "face", "backend", "clock"} <= verdicts.keys(), out
