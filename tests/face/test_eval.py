"""models.eval: error rates from a labelled folder."""

from __future__ import annotations

from pathlib import Path

from models.eval import evaluate, main


def test_eval_on_a_labelled_folder(tmp_path: Path, pipeline, faces_dir: Path, models_dir: Path, capsys) -> None:
    layout = {"match/obama": ["face_recognition/obama.jpg", "face_recognition/obama_small.jpg"],
              "match/biden": ["face_recognition/biden.jpg"],
              "live": ["silentface/image_T1.jpg"],
              "attack": ["silentface/image_F2.jpg", "face_recognition/two_people.jpg"]}
    for folder, files in layout.items():
        (tmp_path / folder).mkdir(parents=True)
        for rel in files:
            (tmp_path / folder / Path(rel).name).symlink_to(faces_dir / rel)
    report = evaluate(pipeline, tmp_path)
    assert len(report.genuine) == 1 and len(report.impostor) == 2
    assert len(report.live) == 1 and len(report.attack) == 1
    assert any("two_people" in s and "2 faces" in s for s in report.skipped)
    assert report.rates(0.363, 0.8) == {"FMR": 0.0, "FNMR": 0.0, "APCER": 0.0, "BPCER": 0.0}
    assert report.rates(0.999, 0.8)["FNMR"] == 1.0
    assert main([str(tmp_path), "--models", str(models_dir)]) == 0
    out = capsys.readouterr().out
    assert "FMR  0.00%" in out and "APCER 0.00%" in out
