from __future__ import annotations

import json
import logging
from pathlib import Path

from kiosk.logs import setup_logging
from kiosk.privacy import mask_card_number, mask_id_number, mask_name, mask_phone, scrub_text
from kiosk.session import SessionCore


def test_masks() -> None:
    assert mask_id_number("440106199001011234") == "4401**********1234"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_card_number("6222021234567890") == "************7890"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("李四") == "李*"


def test_scrub_masks_id_numbers_and_six_digit_runs() -> None:
    text = scrub_text("holder 44010619900101123X entered 654321, card A12345678 count 1234567")
    assert "44010619900101123X" not in text and "4401**********123X" in text
    assert "654321" not in text
    assert "1234567" in text  # not six digits: left alone


def test_json_lines_carry_visit_id_and_drop_secret_fields(tmp_path: Path) -> None:
    setup_logging(tmp_path, "DEBUG", console=False)
    try:
        core = SessionCore(60, 15)
        visit = core.start_visit()
        log = logging.getLogger("test.flow")
        log.info("verify for 440106199001011234 with 123456", extra={"pin": "123456", "pin_block": b"\x01" * 8,
                                                                     "holder_name": "张三", "tries_left": 2})
        try:
            raise ValueError("PIN 987654 rejected")
        except ValueError:
            log.exception("card call failed")
        core.cancel()
        log.info("after the visit")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_kiosk_handler", False):
                handler.flush()
        setup_logging(None, "WARNING", console=False)
    lines = (tmp_path / "kiosk.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    verify = next(e for e in entries if e["msg"].startswith("verify"))
    assert verify["visit"] == visit.id
    assert verify["pin"] == "<redacted>" and verify["pin_block"] == "<redacted>"
    assert verify["holder_name"] == "<redacted>"
    assert verify["tries_left"] == 2
    assert entries[-1]["visit"] is None
    failure = next(e for e in entries if e["msg"] == "card call failed")
    assert failure["exc_type"] == "ValueError"
    whole = "\n".join(lines)
    for secret in ("123456", "987654", "440106199001011234", "张三"):
        assert secret not in whole
