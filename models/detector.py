"""Face detection with YuNet (2023mar, weights dequantized at install).

Two engines, the same network and the same decoding: OpenVINO with OpenCV's decoding re-done in numpy
(models/yunet_decode.py; network 2.0 vs 3.8 ms at 320x256 on one core), or, where OpenVINO is not
there, cv2.FaceDetectorYN itself (the liveness reference outputs were measured with its boxes; a test
checks that both engines give the same boxes). The network runs on a frame scaled so its longer side
is at most ``max_side`` pixels (a kiosk face is large; a 320 px input costs a quarter of a 640 px
one); boxes come back in full-frame pixels.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import cv2
import numpy as np

from models import yunet_decode
from models.runtime import Runner, make_runner
from models.types import Face

# The landmark refinement's input canvases (width, height; see refine()). The crop of a face is
# 1.5x its box, and YuNet's boxes are ~1.4x taller than wide: 448x480 holds, at the frame's own
# resolution, the crop of every face the quality gate lets through on a 640x480 camera (up to ~45%
# of the width, ~290 px); 320x448, two thirds of the cost, the usual face up to ~210 px wide.
# Each canvas is one compiled input shape (~15 MB under OpenVINO), so there are only two.
REFINE_CANVASES = ((320, 448), (448, 480))
_SHAPES_KEPT = 4       # compiled input shapes kept (the frame, the refinement crop, a reference photo...)


class FaceDetector:
    def __init__(self, model: bytes, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 top_k: int = 50, max_side: int = 320, runtime: str = "onnxruntime", threads: int = 1) -> None:
        self.max_side = max_side           # full-frame detection: pass the frame's longer side or more
        self.runtime = "openvino" if runtime == "openvino" else "opencv"
        self.threads = threads if self.runtime == "openvino" else cv2.getNumThreads()    # cv2's pool is process-wide
        self._params = (score_threshold, nms_threshold, top_k)
        self._lock = threading.Lock()      # one detector object is not re-entrant
        if self.runtime == "openvino":
            self._model = model
            self._runners: OrderedDict[tuple[int, int], Runner] = OrderedDict()
            # compiled now for a 4:3 camera's frame: a runtime that cannot load the network fails
            # here, at build (models.factory then falls back), not on the first frame
            self._runner(*yunet_decode.padded_size(max_side, max_side * 3 // 4))
        else:
            self._buffer = np.frombuffer(model, dtype=np.uint8)
            self._net = cv2.FaceDetectorYN.create("onnx", self._buffer, np.empty(0, np.uint8), (320, 320),
                                                  score_threshold, nms_threshold, top_k)
            self._size = (320, 320)

    def _rows(self, image: np.ndarray, canvas: tuple[int, int] | None = None) -> np.ndarray | None:
        """YuNet rows for ``image`` (already at network scale). ``canvas`` (w, h): pad to this fixed
        size instead of the next multiple of 32 (one compiled shape for every refinement crop)."""
        h, w = image.shape[:2]
        if self.runtime == "opencv":
            with self._lock:
                if (w, h) != self._size:
                    self._net.setInputSize((w, h))
                    self._size = (w, h)
                return self._net.detect(image)[1]
        pad_w, pad_h = canvas or yunet_decode.padded_size(w, h)
        runner = self._runner(pad_w, pad_h)
        outputs = runner.run(yunet_decode.blob(image, pad_w, pad_h))
        return yunet_decode.decode(outputs, pad_w, pad_h, *self._params)

    def _runner(self, pad_w: int, pad_h: int) -> Runner:
        """The network compiled for one input shape (a few kept, least recently used dropped)."""
        with self._lock:
            runner = self._runners.get((pad_w, pad_h))
            if runner is None:
                runner = make_runner(self._model, self.threads, "openvino", "f32", (1, 3, pad_h, pad_w))
                self._runners[(pad_w, pad_h)] = runner
                while len(self._runners) > _SHAPES_KEPT:
                    self._runners.popitem(last=False)
            self._runners.move_to_end((pad_w, pad_h))
            return runner

    def detect(self, frame_bgr: np.ndarray, max_side: int | None = None) -> list[Face]:
        """Faces in ``frame_bgr`` (HxWx3 uint8), best score first."""
        h, w = frame_bgr.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(h, w))
        image = frame_bgr if scale == 1.0 else cv2.resize(
            frame_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        rows = self._rows(image)
        if rows is None:
            return []
        faces = [Face.from_yunet_row(r, 1.0 / scale) for r in rows]
        return sorted(faces, key=lambda f: -f.score)

    def refine(self, frame_bgr: np.ndarray, face: Face, margin: float = 0.25,
               canvases: tuple[tuple[int, int], ...] = REFINE_CANVASES) -> Face:
        """Re-detect one face in a crop around it, for precise landmarks (the embedding's alignment
        needs them; a 320 px full-frame detection is a few pixels off). The crop (the box and
        ``margin`` of it each side) is taken at the frame's own resolution on the first of
        ``canvases`` that holds it, else scaled down to fit the last (a large reference photo: the
        face still spans ~300 px, 2.7x SFace's 112 px). Falls back to ``face`` when the crop shows none."""
        h, w = frame_bgr.shape[:2]
        x0, y0 = int(max(0, face.x - face.w * margin)), int(max(0, face.y - face.h * margin))
        x1, y1 = int(min(w, face.x + face.w * (1 + margin))), int(min(h, face.y + face.h * (1 + margin)))
        crop = frame_bgr[y0:y1, x0:x1]
        if crop.size == 0:
            return face
        ch, cw = crop.shape[:2]
        canvas = next((c for c in canvases if cw <= c[0] and ch <= c[1]), canvases[-1])
        scale = min(1.0, canvas[0] / cw, canvas[1] / ch)
        if scale < 1.0:
            crop = cv2.resize(crop, (min(canvas[0], max(1, round(cw * scale))), min(canvas[1], max(1, round(ch * scale)))),
                              interpolation=cv2.INTER_AREA)
        rows = self._rows(crop, canvas if self.runtime == "openvino" else None)
        if rows is None or len(rows) == 0:
            return face
        found = [Face.from_yunet_row(r, 1.0 / scale) for r in rows]
        cx, cy = face.centre
        best = min(found, key=lambda f: abs(f.centre[0] + x0 - cx) + abs(f.centre[1] + y0 - cy))
        return Face(best.x + x0, best.y + y0, best.w, best.h, best.score,
                    (best.landmarks + np.array([x0, y0], np.float32)).astype(np.float32))
