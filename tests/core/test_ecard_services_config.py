"""[ecard] visit_services: which services a visit signed in with the e-card may start (issue 11).

Loaded and validated like every key (a corrupt list stops the kiosk with a named error), and the
session core follows it: the configured services open, the others say what they need."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.app import make_session
from kiosk.config import ConfigError, load_config
from kiosk.identity import IdentitySource, VisitIdentity

PERSON = "440106195203154324"


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    site = tmp_path / "site.toml"
    site.write_text(f"[kiosk]\ndata_dir = \"{tmp_path}\"\n{text}", encoding="utf-8")
    return load_config("demo", site, environ={})


def test_the_default_list_is_the_issue_s(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.ecard.visit_services == ["card_status", "retiree_certification", "real_name", "ecard_pin",
                                           "card_loss"]


def test_the_session_follows_the_configured_list(tmp_path: Path) -> None:
    config = _load(tmp_path, "[ecard]\nvisit_services = [\"retiree_certification\", \"ecard_pin\"]\n")
    core = make_session(config)
    core.start_visit()
    assert core.identify(VisitIdentity(IdentitySource.E_CARD, PERSON, "张建明")) is None
    assert core.allows("ecard_pin") and core.allows("retiree_certification")
    assert not core.allows("real_name") and not core.allows("card_loss") and not core.allows("pin_change")


@pytest.mark.parametrize(("text", "words"), [
    ("[ecard]\nvisit_services = [\"pin_change\"]\n", "writes the social security card"),
    ("[ecard]\nvisit_services = [\"pin_rest\"]\n", "unknown service 'pin_rest'"),
    ("[ecard]\nvisit_services = [\"ecard_pin\", \"ecard_pin\"]\n", "listed twice"),
    ("[ecard]\nvisit_services = \"ecard_pin\"\n", "list"),
])
def test_a_corrupt_list_is_refused_by_name(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert err.value.key.startswith("ecard.visit_services") and words in err.value.problem, err.value
