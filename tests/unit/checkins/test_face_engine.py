"""The face engine on real photographs (dlib models from face_recognition_models).

Images used, all shipped with scikit-image (no download):

* ``astronaut()``: a real portrait (Eileen Collins) and transformed copies of it for
  "same person" (rotation, scale, brightness, JPEG recompression, shift, mirror).
* ``lfw_subset()``: the first 100 images are real faces from Labeled Faces in the Wild,
  25x25 grey crops. Upscaled and padded they are detected and serve as "different people";
  their descriptors are degraded by the low resolution, so they only show that distinct
  real faces land far beyond the threshold, not the model's accuracy.
* ``coffee()``: no face.

A head turn cannot be photographed here, so liveness uses a horizontal shear about the eye
line: it moves the nose base sideways relative to the eyes as a yaw does (the image-left
direction = the subject's right in an un-mirrored frame).
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

skimage_data = pytest.importorskip("skimage.data")

from zhijiao.checkins import face  # noqa: E402
from zhijiao.checkins.face import engine as engine_module  # noqa: E402
from zhijiao.core.errors import InvalidInput, TooLarge  # noqa: E402

ASTRONAUT = skimage_data.astronaut()  # face box about (175, 76, 91, 91), eyes at y ~103
EYE_Y = 103
HEAD = Image.fromarray(ASTRONAUT[0:300, 50:350])  # the head alone (no mission patch), faster


def encode(img: Image.Image | np.ndarray, fmt: str = "JPEG", quality: int = 92) -> bytes:
    im = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def shear(im: Image.Image, s: float, y0: float = EYE_Y) -> Image.Image:
    """Shift rows below the eye line left by s px per px (s > 0), rows above right."""
    return im.transform(im.size, Image.Transform.AFFINE, (1, s, -s * y0, 0, 1, 0), resample=Image.Resampling.BICUBIC)


def translate(im: Image.Image, dx: int) -> Image.Image:
    canvas = Image.new("RGB", (im.width + abs(dx), im.height), (128, 128, 128))
    canvas.paste(im, (max(dx, 0), 0))
    return canvas


def lfw_face(index: int, size: int = 110, canvas: int = 240) -> np.ndarray:
    grey = (skimage_data.lfw_subset()[index] * 255).astype(np.uint8)
    big = Image.fromarray(grey).resize((size, size), Image.Resampling.BICUBIC).convert("RGB")
    out = Image.new("RGB", (canvas, canvas), (128, 128, 128))
    out.paste(big, ((canvas - size) // 2, (canvas - size) // 3))
    return np.asarray(out)


LOOSE = face.FaceConfig(min_face_px=1, min_sharpness=0, min_luminance=0, max_luminance=255)


@pytest.fixture(scope="module")
def engine() -> face.FaceEngine:
    return face.get_engine()


@pytest.fixture(scope="module")
def reference(engine: face.FaceEngine) -> face.FaceAnalysis:
    return engine.analyze(encode(ASTRONAUT, "PNG"))


# --- engine -----------------------------------------------------------------------------


def test_engine_uses_five_point_landmarks_only(reference: face.FaceAnalysis) -> None:
    # The 68-point model's licence forbids commercial use.
    assert reference.landmarks is not None and reference.landmarks.shape == (5, 2)
    source = Path(engine_module.__file__).read_text(encoding="utf-8")
    assert "pose_predictor_five_point_model_location" in source
    assert "pose_predictor_model_location" not in source and "68_face" not in source


def test_get_engine_loads_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    sentinel = object()

    def slow_load() -> object:
        calls.append(1)
        time.sleep(0.05)
        return sentinel

    monkeypatch.setattr(engine_module, "_engine", None)
    monkeypatch.setattr(engine_module.FaceEngine, "load", staticmethod(slow_load))
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(engine_module.get_engine())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [sentinel] * 8


def test_analyze_real_face(reference: face.FaceAnalysis) -> None:
    q = reference.quality
    assert q.passed and q.code is None and q.face_count == 1 and q.message == "图像质量合格"
    assert reference.box is not None and abs(reference.box.left - 177) <= 10 and abs(reference.box.top - 80) <= 10
    assert 80 <= q.face_px <= 100 and abs(q.roll_deg) < 10 and abs(q.yaw) < 0.1
    assert 50 < q.luminance < 225
    assert q.sharpness > 100
    emb = reference.require_ok()
    assert emb.dtype == np.float32 and emb.shape == (128,)
    assert reference.landmarks is not None and reference.landmarks.shape == (5, 2)
    assert reference.image_size == (512, 512)


def test_box_and_size_are_in_original_pixels(engine: face.FaceEngine) -> None:
    big = np.asarray(Image.fromarray(ASTRONAUT).resize((2048, 2048), Image.Resampling.BILINEAR))
    result = engine.analyze_image(big)  # detection runs on a 640 px copy
    assert result.quality.passed
    # the box comes from the detector's pyramid level: about +-10 % between scales
    assert result.box is not None and abs(result.box.left - 4 * 175) <= 40
    assert result.quality.face_px == pytest.approx(4 * 91, rel=0.12)


SAME_PERSON = {
    "rotate_8deg": lambda im: im.rotate(8, resample=Image.Resampling.BICUBIC),
    "scale_1_5": lambda im: im.resize((768, 768), Image.Resampling.LANCZOS),
    "brighter_1_3": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    "darker_0_6": lambda im: ImageEnhance.Brightness(im).enhance(0.6),
    "jpeg_q30": lambda im: Image.open(io.BytesIO(encode(im, quality=30))),
    "shift_60px": lambda im: translate(im, 60),
    "mirrored": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
}


@pytest.mark.parametrize("name", SAME_PERSON)
def test_same_person_matches(engine: face.FaceEngine, reference: face.FaceAnalysis, name: str) -> None:
    variant = SAME_PERSON[name](Image.fromarray(ASTRONAUT))
    probe = engine.analyze(encode(variant))
    assert probe.quality.passed, probe.quality
    result = face.verify(probe.require_ok(), reference.require_ok())
    assert result.matched and result.distance < 0.35 and result.score > 0.9


@pytest.fixture(scope="module")
def other_people(engine: face.FaceEngine) -> dict[int, np.ndarray]:
    found = {}
    for index in range(16):
        analysis = engine.analyze_image(lfw_face(index), config=LOOSE)
        if analysis.embedding is not None:
            found[index] = analysis.embedding
    return found


def test_different_people_do_not_match(reference: face.FaceAnalysis, other_people: dict[int, np.ndarray]) -> None:
    assert len(other_people) >= 10
    for index, embedding in other_people.items():
        result = face.verify(embedding, reference.require_ok())
        assert not result.matched and result.distance > 0.55, index
        assert "不是同一人" in result.explanation_chinese


def test_search_finds_the_astronaut_among_others(
    engine: face.FaceEngine, reference: face.FaceAnalysis, other_people: dict[int, np.ndarray]
) -> None:
    noise = np.random.default_rng(3).standard_normal((20_000, 128)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    real = [reference.require_ok(), *other_people.values()]
    ids = ["astronaut", *(f"lfw-{i}" for i in other_people), *(f"noise-{i}" for i in range(len(noise)))]
    gallery = face.Gallery(np.vstack([np.stack(real), noise]), ids)
    probe = engine.analyze(encode(SAME_PERSON["jpeg_q30"](Image.fromarray(ASTRONAUT)))).require_ok()
    hits = gallery.search(probe, top_k=3)
    assert hits[0].id == "astronaut" and hits[0].matched
    assert not any(h.matched for h in hits[1:])


# --- quality gate -----------------------------------------------------------------------


def analyze(engine: face.FaceEngine, img: Image.Image | np.ndarray, **cfg: float) -> face.FaceAnalysis:
    return engine.analyze(encode(img, "PNG"), config=face.FaceConfig(**cfg) if cfg else None)


def test_no_face(engine: face.FaceEngine) -> None:
    result = analyze(engine, skimage_data.coffee())
    assert result.quality.codes == ("no_face",) and result.quality.face_count == 0
    assert result.embedding is None and result.box is None
    with pytest.raises(face.FaceRejected) as exc:
        result.require_ok()
    assert exc.value.code == "no_face" and exc.value.status == 422 and "人脸" in exc.value.message


def test_multiple_faces(engine: face.FaceEngine) -> None:
    result = analyze(engine, np.concatenate([ASTRONAUT, ASTRONAUT], axis=1))
    assert result.quality.code == "multiple_faces" and result.quality.face_count == 2
    assert result.embedding is None


def test_face_too_small(engine: face.FaceEngine) -> None:
    small = Image.fromarray(ASTRONAUT).resize((256, 256), Image.Resampling.LANCZOS)
    result = analyze(engine, small)
    assert result.quality.codes == ("face_too_small",) and result.quality.face_px < 60
    assert "像素" in result.quality.message and result.embedding is None
    assert analyze(engine, small, min_face_px=40).quality.passed


def test_too_blurry(engine: face.FaceEngine) -> None:
    blurred = Image.fromarray(ASTRONAUT).filter(ImageFilter.GaussianBlur(2))
    result = analyze(engine, blurred)
    assert result.quality.codes == ("too_blurry",)
    assert result.quality.sharpness < face.FaceConfig().min_sharpness


@pytest.mark.parametrize(("factor", "word"), [(0.2, "暗"), (1.6, "亮")])
def test_bad_exposure(engine: face.FaceEngine, factor: float, word: str) -> None:
    img = ImageEnhance.Brightness(Image.fromarray(ASTRONAUT)).enhance(factor)
    result = analyze(engine, img)
    assert result.quality.codes == ("bad_exposure",) and word in result.quality.message


def test_not_frontal_roll(engine: face.FaceEngine) -> None:
    result = analyze(engine, Image.fromarray(ASTRONAUT).rotate(30, resample=Image.Resampling.BICUBIC))
    assert result.quality.codes == ("not_frontal",) and abs(result.quality.roll_deg) > 20


def test_not_frontal_yaw(engine: face.FaceEngine) -> None:
    turned = shear(Image.fromarray(ASTRONAUT), 0.25)  # nose moves ~0.14 inter-ocular units
    assert analyze(engine, turned).quality.passed  # within the default 0.2
    result = analyze(engine, turned, max_yaw=0.1)
    assert result.quality.codes == ("not_frontal",) and result.quality.yaw < -0.1


def test_not_an_image_and_too_large_through_engine(engine: face.FaceEngine) -> None:
    with pytest.raises(InvalidInput) as exc:
        engine.analyze(np.random.default_rng(0).bytes(10_000))
    assert exc.value.code == "not_an_image"
    with pytest.raises(TooLarge) as exc2:
        engine.analyze(b"\xff\xd8" + b"\0" * (5 * 1024 * 1024))
    assert exc2.value.code == "image_too_large" and exc2.value.status == 413


# --- liveness on real frames ------------------------------------------------------------


@pytest.fixture(scope="module")
def turn_right_frames() -> list[bytes]:
    return [
        encode(HEAD, quality=95),
        encode(HEAD, quality=90),
        encode(shear(HEAD, 0.12)),
        encode(shear(HEAD, 0.25)),
        encode(shear(HEAD, 0.12)),
        encode(HEAD, quality=85),
    ]


def test_identical_frames_fail_as_still_photo(engine: face.FaceEngine) -> None:
    frames = [encode(HEAD)] * 5
    result = face.check_liveness(frames, face.Challenge.TURN_LEFT, engine=engine)
    assert not result.passed and result.code == "static_frames" and "照片" in result.reason_chinese
    assert result.measurements["max_frame_diff"] == 0


def test_near_identical_frames_fail_as_still_photo(engine: face.FaceEngine) -> None:
    frames = [encode(HEAD, quality=q) for q in (95, 90, 85, 80, 75)]  # recompressions only
    result = face.check_liveness(frames, "nod", engine=engine)
    assert result.code == "static_frames"


def test_simulated_head_turn(engine: face.FaceEngine, turn_right_frames: list[bytes]) -> None:
    ok = face.check_liveness(turn_right_frames, face.Challenge.TURN_RIGHT, engine=engine)
    assert ok.passed and ok.code == "passed", ok
    assert ok.measurements["peak_delta"] < -0.1 and ok.measurements["identity_distance"] < 0.5
    wrong = face.check_liveness(turn_right_frames, face.Challenge.TURN_LEFT, engine=engine)
    assert wrong.code == "wrong_direction"
    mirrored = face.check_liveness(turn_right_frames, face.Challenge.TURN_LEFT, engine=engine, mirrored=True)
    assert mirrored.passed


def test_photo_moved_in_front_of_camera_fails(engine: face.FaceEngine) -> None:
    def held(dx: int, dy: int, angle: float) -> bytes:
        canvas = Image.new("RGB", (420, 360), (128, 128, 128))
        canvas.paste(HEAD.rotate(angle, resample=Image.Resampling.BICUBIC), (dx, dy))
        return encode(canvas)

    frames = [held(*p) for p in [(0, 0, 0), (0, 0, 0), (30, 10, 4), (60, 20, 8), (90, 40, 12), (40, 20, 4)]]
    result = face.check_liveness(frames, face.Challenge.NOD, engine=engine)
    assert result.code == "challenge_not_met" and result.measurements["max_landmark_motion"] > 0.5


def test_person_swapped_during_burst_fails(engine: face.FaceEngine, turn_right_frames: list[bytes]) -> None:
    other = Image.new("RGB", HEAD.size, (128, 128, 128))
    other.paste(Image.fromarray(lfw_face(0, size=110, canvas=240)), (30, 30))
    frames = [*turn_right_frames[:-1], encode(other)]
    cfg = face.LivenessConfig(require_return=False)  # the stranger need not face exactly forward
    result = face.check_liveness(frames, face.Challenge.TURN_RIGHT, engine=engine, config=cfg)
    assert result.code == "identity_changed" and result.measurements["identity_distance"] > 0.5


def test_frame_without_face_fails(engine: face.FaceEngine, turn_right_frames: list[bytes]) -> None:
    frames = [*turn_right_frames[:2], encode(skimage_data.coffee()), *turn_right_frames[3:]]
    result = face.check_liveness(frames, face.Challenge.TURN_RIGHT, engine=engine)
    assert result.code == "face_lost" and "第 3 帧" in result.reason_chinese


def test_frame_count_is_validated(engine: face.FaceEngine) -> None:
    with pytest.raises(InvalidInput) as exc:
        face.check_liveness([encode(HEAD)] * 2, "nod", engine=engine)
    assert exc.value.code == "liveness_frames"
