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


def test_eval_names_failing_images_gives_attack_types_and_intervals(tmp_path: Path, faces_dir: Path,
                                                                     models_dir: Path, capsys) -> None:
    """pairs.csv (deepface format), attack/<type>/ folders, per-image PASS/FAIL and failures by name."""
    (tmp_path / "live").mkdir()
    (tmp_path / "attack" / "print").mkdir(parents=True)
    (tmp_path / "attack" / "replay").mkdir(parents=True)
    (tmp_path / "live" / "image_T1.jpg").symlink_to(faces_dir / "silentface/image_T1.jpg")
    (tmp_path / "live" / "printed_as_live.jpg").symlink_to(faces_dir / "silentface/image_F1.jpg")   # mislabelled
    (tmp_path / "attack" / "print" / "image_F1.jpg").symlink_to(faces_dir / "silentface/image_F1.jpg")
    (tmp_path / "attack" / "replay" / "image_F2.jpg").symlink_to(faces_dir / "silentface/image_F2.jpg")
    for name in ("img1.jpg", "img2.jpg", "img3.jpg"):
        (tmp_path / name).symlink_to(faces_dir / "deepface" / name)
    (tmp_path / "pairs.csv").write_text("file_x,file_y,Decision\nimg1.jpg,img2.jpg,Yes\nimg1.jpg,img3.jpg,No\n")
    assert main([str(tmp_path), "--models", str(models_dir)]) == 0
    out = capsys.readouterr().out
    assert "genuine " in out and "img1.jpg ~ img2.jpg" in out and "impostor" in out
    assert "APCER[print] 0.00% (0/1; 95% CI 0.0-79.3%)" in out and "APCER[replay]" in out
    assert "BPCER 50.00%" in out and "(1/2; 95% CI" in out
    assert "failing: 1" in out and "live image refused" in out and "live/printed_as_live.jpg" in out
