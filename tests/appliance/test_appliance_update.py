"""Signed release bundles: a bad signature is refused before anything is unpacked; a good release
is installed beside the running one, switched atomically and health-checked; a release that fails
its health check is rolled back automatically and never tried again; the switch waits for the
attract screen. The kiosk in these bundles is a stand-in (appliance_helpers.STANDIN) that publishes
its run state through the real kiosk.appliance code; the updater and bundles are the real thing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appliance_helpers import DEPS_FROM, STANDIN_PARTS, ProcessService, env_for, standin_source, wait_until

from kiosk.appliance.bundle import (
    BundleError,
    build_bundle,
    generate_key,
    load_private_key,
    trusted_keys,
    verify_bundle,
)
from kiosk.appliance.install import install_beside
from kiosk.appliance.layout import Layout, switch_to
from kiosk.appliance.release import read_release
from kiosk.appliance.state import read_state
from kiosk.appliance.update import UpdatePolicy, apply_update


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Release key, a kiosk layout with v1 installed and running (stand-in), the update policy."""
    keys = tmp_path / "keys"
    keys.mkdir()
    kid = generate_key(keys / "release.key", None)
    private = load_private_key(keys / "release.key", None)
    (keys / "release.key").rename(tmp_path / "release.key")         # only the .pub stays trusted
    layout = Layout(tmp_path / "opt")
    service = ProcessService(layout.current, env_for(tmp_path))
    policy = UpdatePolicy(state_file=tmp_path / "state.json", health_timeout_s=6, idle_quiet_s=0,
                          idle_timeout_s=20, poll_s=0.1, deps_from=DEPS_FROM)

    def bundle(version: str, behaviour: str = "healthy") -> Path:
        source = standin_source(tmp_path / f"src-{version}", behaviour)
        return build_bundle(source, version, private, tmp_path / f"{version}.kbundle", parts=STANDIN_PARTS)

    v1 = verify_bundle(bundle("1.0.0"), trusted_keys(keys))
    switch_to(layout, install_beside(v1, layout, deps_from=DEPS_FROM))
    service.restart()
    wait_until(lambda: (s := read_state(policy.state_file)) is not None and s.release["version"] == "1.0.0",
               20, "v1 publishes its state")
    yield {"keys": keys, "kid": kid, "layout": layout, "service": service, "policy": policy, "bundle": bundle,
           "tmp": tmp_path, "v1": v1}
    service.stop()


def _current_version(layout: Layout) -> str:
    current = layout.target(layout.current)
    assert current is not None
    return str((read_release(current) or {})["version"])


def test_tampered_or_untrusted_bundle_is_refused_before_unpacking(site) -> None:  # type: ignore[no-untyped-def]
    good = site["bundle"]("1.1.0")
    data = bytearray(good.read_bytes())
    data[-100] ^= 0x01                                           # one bit in the payload
    tampered = site["tmp"] / "tampered.kbundle"
    tampered.write_bytes(bytes(data))
    header_end = data.index(b"\n", len(b"SSKIOSK-BUNDLE 1\n")) + 1
    relabelled = site["tmp"] / "relabelled.kbundle"               # the signed header says another version
    relabelled.write_bytes(bytes(data[:header_end]).replace(b'"1.1.0"', b'"9.9.9"') + good.read_bytes()[header_end:])
    foreign_keys = site["tmp"] / "foreign"
    foreign_keys.mkdir()
    generate_key(foreign_keys / "other.key", None)
    foreign = build_bundle(site["tmp"] / "src-1.1.0", "1.1.0", load_private_key(foreign_keys / "other.key", None),
                           site["tmp"] / "foreign.kbundle", parts=STANDIN_PARTS)
    before = sorted(p.name for p in site["layout"].releases.iterdir())
    history = site["tmp"] / "history.jsonl"
    for bad, why in ((tampered, "payload differs"), (relabelled, "signature does not match"),
                     (foreign, "does not trust")):
        with pytest.raises(BundleError, match=why):
            verify_bundle(bad, trusted_keys(site["keys"]))
        outcome = apply_update(bad, site["layout"], site["service"], site["policy"], site["keys"], history)
        assert outcome.result == "refused" and why in outcome.detail
    assert sorted(p.name for p in site["layout"].releases.iterdir()) == before      # nothing unpacked
    assert _current_version(site["layout"]) == "1.0.0" and site["service"].restarts == 1
    assert [json.loads(line)["result"] for line in history.read_text().splitlines()] == ["refused"] * 3


def test_good_release_is_switched_and_a_failing_one_rolled_back(site) -> None:  # type: ignore[no-untyped-def]
    layout, policy = site["layout"], site["policy"]
    good = apply_update(site["bundle"]("1.1.0"), layout, site["service"], policy, site["keys"], None)
    assert good.result == "switched", good.detail
    assert _current_version(layout) == "1.1.0"
    assert (read_release(layout.target(layout.previous)) or {})["version"] == "1.0.0"   # type: ignore[arg-type]
    running = read_state(policy.state_file)
    assert running is not None and running.release == {"version": "1.1.0", "sha256": good.sha256}
    assert (read_release(layout.target(layout.current)) or {})["signed_by"] == site["kid"]  # type: ignore[arg-type]

    bad_bundle = site["bundle"]("1.2.0", behaviour="broken")
    bad = apply_update(bad_bundle, layout, site["service"], policy, site["keys"], None)
    assert bad.result == "rolled_back", bad.detail
    assert "failed its health check" in bad.detail and "restarted: healthy" in bad.detail
    assert _current_version(layout) == "1.1.0"                   # back on the last good release
    wait_until(lambda: (s := read_state(policy.state_file)) is not None and s.release["version"] == "1.1.0",
               10, "the previous release runs again")
    again = apply_update(bad_bundle, layout, site["service"], policy, site["keys"], None)
    assert again.result == "refused" and "not tried again" in again.detail
    # Only current and previous are kept; the failed release is gone from disk.
    assert sorted(p.name.split("-")[0] for p in layout.releases.iterdir()) == ["1.0.0", "1.1.0"]


def test_switch_waits_for_the_attract_screen(site) -> None:  # type: ignore[no-untyped-def]
    layout, policy = site["layout"], site["policy"]
    visit = site["tmp"] / "visit"
    visit.touch()                                                # a citizen is being served
    wait_until(lambda: (s := read_state(policy.state_file)) is not None and not s.idle, 10, "visit shows")
    policy.idle_timeout_s = 1.5
    waiting = apply_update(site["bundle"]("1.1.0"), layout, site["service"], policy, site["keys"], None)
    assert waiting.result == "not_idle"
    assert _current_version(layout) == "1.0.0" and site["service"].restarts == 1    # never touched mid-visit
    visit.unlink()                                               # the visit ended: attract screen
    done = apply_update(site["tmp"] / "1.1.0.kbundle", layout, site["service"], policy, site["keys"], None)
    assert done.result == "switched" and _current_version(layout) == "1.1.0"


def _probe_wheel(folder: Path) -> None:
    """A minimal pure-Python wheel (zip + dist-info), standing for the bundle's pinned dependencies."""
    import base64
    import hashlib
    import zipfile

    files = {"kioskdep_probe/__init__.py": b"VALUE = 42\n",
             "kioskdep_probe-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: kioskdep-probe\nVersion: 1.0\n",
             "kioskdep_probe-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                  b"Tag: py3-none-any\n"}
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\n" for name, data in files.items()) + "kioskdep_probe-1.0.dist-info/RECORD,,\n"
    folder.mkdir()
    with zipfile.ZipFile(folder / "kioskdep_probe-1.0-py3-none-any.whl", "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr("kioskdep_probe-1.0.dist-info/RECORD", record)


def test_bundle_with_wheels_installs_its_dependencies_offline(tmp_path: Path) -> None:
    """The production path: the bundle carries wheels/, the release venv is built from them with
    pip --no-index on Debian's python3 (no network, no reuse of another environment)."""
    import subprocess

    keys = tmp_path / "keys"
    keys.mkdir()
    generate_key(keys / "release.key", None)
    source = standin_source(tmp_path / "src", "healthy")
    (source / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2.0.0"\n'
                                           'dependencies = ["kioskdep-probe==1.0"]\n')
    _probe_wheel(tmp_path / "wheels")
    path = build_bundle(source, "2.0.0", load_private_key(keys / "release.key", None), tmp_path / "2.0.0.kbundle",
                        wheels=tmp_path / "wheels", parts=STANDIN_PARTS)
    release = install_beside(verify_bundle(path, trusted_keys(keys)), Layout(tmp_path / "opt"),
                             python="/usr/bin/python3")
    shown = subprocess.run([str(release / ".venv/bin/python"), "-P", "-c",
                            "import kioskdep_probe; from kiosk.appliance.release import running_release as r;"
                            "print(kioskdep_probe.VALUE, r()['version'])"],
                           capture_output=True, text=True, cwd="/", check=False)
    assert shown.stdout.split() == ["42", "2.0.0"], shown.stderr
    assert not (release / "wheels").exists() and not list(release.parent.glob(".staging-*"))
