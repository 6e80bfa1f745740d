"""Time the phone-suffix verifier: the backend's scrypt per summary, the kiosk's check per new PIN,
and what the parameters mean for a search of the suffix (figures printed, nothing asserted).

    python bench/phone_suffix_kdf.py
"""

from __future__ import annotations

import statistics
import time

from backend.persons import SUFFIX_KDF, phone_suffix_check
from kiosk.pin_policy import PhoneSuffixCheck

ROUNDS = 20


def main() -> None:
    made, checked = [], []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        verifier = phone_suffix_check("13812345097")
        made.append(time.perf_counter() - t)
        check = PhoneSuffixCheck.from_summary({"phone_suffix_check": verifier})
        assert check is not None
        t = time.perf_counter()
        check.matches(bytearray(b"704918"))
        checked.append(time.perf_counter() - t)
    per_check = statistics.median(checked)
    print(f"scrypt N={SUFFIX_KDF['n']} r={SUFFIX_KDF['r']} p={SUFFIX_KDF['p']} "
          f"({128 * SUFFIX_KDF['n'] * SUFFIX_KDF['r'] // 2**20} MiB)")
    print(f"backend, one verifier per summary: median {statistics.median(made) * 1000:.1f} ms")
    print(f"kiosk, one phone-suffix check: median {per_check * 1000:.1f} ms, max {max(checked) * 1000:.1f} ms")
    print(f"one core, all 10^6 suffixes: {per_check * 1e6 / 3600:.1f} h; "
          f"the 100 left by the mask (last four shown): {per_check * 100:.1f} s")


if __name__ == "__main__":
    main()
