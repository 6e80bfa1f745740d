"""The passive-liveness screen's band table: face-size band edges and one threshold per band.

Pure Python (no model imports), so the configuration can validate it without loading OpenCV.

With the active challenge on, passive liveness is a screen, not the gate: one low threshold per
face-size band (face width / frame width), calibrated on the labelled set's genuine frames for
BPCER <= 1% in each band (bench/face_liveness_decision.py; docs/face.md, "Two-tier decision").
The networks' crop loses context as the face grows (a 640x480 frame holds the 2.7x crop only up to
~22% face width), so genuine scores fall with size and each band needs its own threshold.
Bands: width < edges[0], edges[0] <= width < edges[1], ..., width >= edges[-1].
"""

from __future__ import annotations

import itertools
import math

SHIPPED_SCREEN_BAND_EDGES = (0.27, 0.45)
# calibrated by bench/face_liveness_decision.py; above 45% no threshold keeps BPCER <= 1% and still
# screens anything (0.0: off), so faces there are asked to move back first (SHIPPED_MOVE_BACK_ABOVE)
SHIPPED_SCREEN_THRESHOLDS = (0.14, 0.077, 0.0)
SHIPPED_MOVE_BACK_ABOVE = 0.45


def screen_problem(edges: tuple[float, ...] | list[float], thresholds: tuple[float, ...] | list[float],
                   strict: float) -> tuple[str, str] | None:
    """What is wrong with a band table, as (``"band_edges"`` or ``"thresholds"``, message); None when
    usable: edges strictly increasing inside (0, 1), one threshold per band (len(edges) + 1), each a
    probability in [0, strict] (the screen is the lower tier)."""
    edges, thresholds = list(edges), list(thresholds)

    def numbers(values: list[object]) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)

    if not numbers(edges) or any(not 0.0 < e < 1.0 for e in edges) \
            or any(b <= a for a, b in itertools.pairwise(edges)):
        return "band_edges", (f"liveness screen band edges {edges}: expected face-width fractions strictly "
                              "increasing between 0 and 1, e.g. [0.27, 0.42]")
    if len(thresholds) != len(edges) + 1:
        return "thresholds", (f"liveness screen: {len(edges)} band edges make {len(edges) + 1} bands, but "
                              f"{len(thresholds)} thresholds are given (one per band)")
    if not numbers(thresholds) or any(not 0.0 <= t <= strict for t in thresholds):
        return "thresholds", (f"liveness screen thresholds {thresholds}: expected numbers between 0 and the "
                              f"strict liveness threshold {strict} (the screen is the lower tier)")
    return None
