"""Every face code has a sentence, and every sentence has its Chinese."""

from __future__ import annotations

from pathlib import Path

from kiosk.i18n import parse_po, translate
from kiosk.messages import face as messages
from models.challenge import ChallengeFailure, ChallengeStep
from models.policy import FaceOutcome
from models.quality import QualityReason
from models.reference import ReferenceProblem


def test_every_code_has_a_translated_sentence() -> None:
    catalog = parse_po(Path(__file__).resolve().parents[2] / "locale" / "zh_CN" / "LC_MESSAGES" / "face.po")
    codes = [*QualityReason, *ChallengeStep, *(f for f in ChallengeFailure if f), *FaceOutcome]
    for code in codes:
        english = translate(next(t[code] for t in (messages.QUALITY, messages.CHALLENGE,
                                                      messages.CHALLENGE_FAILURE, messages.OUTCOME) if code in t), "en")
        assert english in catalog, f"no zh_CN for {code!r}: {english!r}"
        assert translate(english, "zh_CN") == catalog[english]
    for problem in ReferenceProblem:
        assert catalog[messages.REFERENCE[problem]].startswith("您登记的照片")
    for extra in (messages.RECORDED_SOURCE, messages.CONSENT):
        assert extra in catalog
    assert catalog[messages.QUALITY[QualityReason.EYES_COVERED]] == "请摘下墨镜。"
    assert "12333" in catalog[messages.OUTCOME[FaceOutcome.GO_TO_COUNTER]]
    assert messages.text(QualityReason.TOO_FAR) in ("请靠近一点。", "Please come a little closer.")
