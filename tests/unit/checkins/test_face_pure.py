"""Face package logic that needs no model: decoding, pose geometry, liveness motion, matching."""

from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from zhijiao.checkins.face import (
    Challenge,
    FaceConfig,
    Gallery,
    LivenessConfig,
    decode_image,
    evaluate_motion,
    match_score,
    pose_from_landmarks,
    search,
    verify,
)
from zhijiao.core.errors import InvalidInput, TooLarge

# --- helpers ----------------------------------------------------------------------------

# A head in inter-ocular units: x to the image's right, y down, z towards the camera.
# dlib order: 0-1 corners of the image-right eye, 2-3 of the image-left eye, 4 nose base.
HEAD = np.array(
    [[0.75, 0.0, 0.0], [0.25, 0.0, 0.0], [-0.75, 0.0, 0.0], [-0.25, 0.0, 0.0], [0.0, 0.7, 0.4]]
)


def head_landmarks(
    yaw_deg: float = 0.0,
    pitch_deg: float = 0.0,
    roll_deg: float = 0.0,
    *,
    scale: float = 60.0,
    offset: tuple[float, float] = (320.0, 240.0),
) -> np.ndarray:
    """Orthographic projection of HEAD. Positive yaw turns the nose towards the image's right
    (the subject's left in an un-mirrored image); positive pitch nods the head down."""
    y, p, r = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    yaw = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    pts = (HEAD @ yaw.T @ pitch.T)[:, :2]
    roll = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    return (pts @ roll.T) * scale + np.array(offset)


def png_bytes(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 100, 90)).save(buf, "PNG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions; the pixel data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


# --- decoding ---------------------------------------------------------------------------


def test_decode_png_returns_contiguous_rgb() -> None:
    img = decode_image(png_bytes(40, 30))
    assert img.rgb.shape == (30, 40, 3) and img.rgb.dtype == np.uint8 and img.rgb.flags.c_contiguous
    assert img.original_size == (40, 30) and img.scale == 1.0


@pytest.mark.parametrize(
    "data",
    [b"", np.random.default_rng(1).bytes(4096), b"GIF89a" + b"\0" * 100, png_bytes(64, 64)[:60]],
    ids=["empty", "random", "fake-gif", "truncated-png"],
)
def test_non_images_are_rejected(data: bytes) -> None:
    with pytest.raises(InvalidInput) as exc:
        decode_image(data)
    assert exc.value.code == "not_an_image" and exc.value.status == 422
    assert "图片" in exc.value.message


def test_formats_outside_the_allow_list_are_rejected() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, "GIF")
    with pytest.raises(InvalidInput) as exc:
        decode_image(buf.getvalue())
    assert exc.value.code == "not_an_image"


def test_too_many_bytes_is_413_before_decoding() -> None:
    data = b"\xff" * (FaceConfig().max_bytes + 1)
    with pytest.raises(TooLarge) as exc:
        decode_image(data)
    assert exc.value.code == "image_too_large" and exc.value.status == 413


def test_huge_dimensions_rejected_from_header() -> None:
    with pytest.raises(TooLarge) as exc:
        decode_image(png_header_only(30_000, 30_000))
    assert exc.value.code == "image_too_large"
    with pytest.raises(TooLarge):
        decode_image(png_bytes(200, 200), config=FaceConfig(max_pixels=10_000))


def test_large_jpeg_is_reduced_to_working_size() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (2000, 1000), (200, 150, 100)).save(buf, "JPEG")
    cfg = FaceConfig(work_max_side=800)
    img = decode_image(buf.getvalue(), config=cfg)
    assert max(img.rgb.shape[:2]) <= 800
    assert img.original_size == (2000, 1000)
    assert img.scale == pytest.approx(2000 / img.rgb.shape[1])


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    buf = io.BytesIO()
    Image.new("RGB", (200, 100)).save(buf, "JPEG", exif=exif)
    img = decode_image(buf.getvalue())
    assert img.rgb.shape[:2] == (200, 100)
    assert img.original_size == (100, 200)


def test_config_validates() -> None:
    with pytest.raises(ValueError):
        FaceConfig(min_luminance=200, max_luminance=100)
    with pytest.raises(ValueError):
        LivenessConfig(min_frames=2, baseline_frames=2)


# --- pose geometry ----------------------------------------------------------------------


def test_frontal_pose() -> None:
    pose = pose_from_landmarks(head_landmarks())
    assert pose.roll_deg == pytest.approx(0, abs=1e-9)
    assert pose.yaw == pytest.approx(0, abs=1e-9)
    assert pose.pitch == pytest.approx(0.7)
    assert pose.interocular == pytest.approx(60)


def test_pose_is_invariant_to_position_scale_and_roll() -> None:
    base = pose_from_landmarks(head_landmarks(20, 10))
    moved = pose_from_landmarks(head_landmarks(20, 10, 25, scale=140, offset=(50, 900)))
    assert moved.roll_deg - base.roll_deg == pytest.approx(25)
    assert pose_from_landmarks(head_landmarks(0, 0, 25)).roll_deg == pytest.approx(25)
    assert moved.yaw == pytest.approx(base.yaw)
    assert moved.pitch == pytest.approx(base.pitch)


def test_yaw_proxy_follows_head_turn() -> None:
    yaws = [pose_from_landmarks(head_landmarks(a)).yaw for a in (-40, -20, 0, 20, 40)]
    assert yaws == sorted(yaws) and yaws[2] == pytest.approx(0, abs=1e-9)
    assert pose_from_landmarks(head_landmarks(20)).yaw == pytest.approx(0.4 * math.tan(math.radians(20)))


def test_degenerate_landmarks_raise() -> None:
    with pytest.raises(ValueError):
        pose_from_landmarks(np.zeros((5, 2)))
    with pytest.raises(ValueError):
        pose_from_landmarks(np.zeros((68, 2)))


# --- liveness motion logic --------------------------------------------------------------


def burst(yaws: list[float], pitches: list[float] | None = None) -> list[np.ndarray]:
    pitches = pitches or [0.0] * len(yaws)
    return [head_landmarks(y, p) for y, p in zip(yaws, pitches, strict=True)]


TURN_LEFT = burst([0, 0, 10, 25, 35, 20, 5])  # nose to the image's right = subject's left


def test_turn_left_passes_and_other_challenges_fail() -> None:
    ok = evaluate_motion(TURN_LEFT, Challenge.TURN_LEFT)
    assert ok.passed and ok.code == "passed" and ok.peak_index == 4
    assert ok.measurements["peak_delta"] > 0.1
    assert evaluate_motion(TURN_LEFT, "turn_right").code == "wrong_direction"
    assert evaluate_motion(TURN_LEFT, Challenge.NOD).code == "challenge_not_met"


def test_mirrored_frames_swap_left_and_right() -> None:
    assert evaluate_motion(TURN_LEFT, Challenge.TURN_RIGHT, mirrored=True).passed
    assert not evaluate_motion(TURN_LEFT, Challenge.TURN_LEFT, mirrored=True).passed


def test_turn_right_and_nod_pass() -> None:
    assert evaluate_motion(burst([0, 0, -15, -30, -10, 0]), Challenge.TURN_RIGHT).passed
    nod = burst([0] * 6, [0, 0, 12, 25, 10, 0])
    assert evaluate_motion(nod, Challenge.NOD).passed
    assert evaluate_motion(nod, Challenge.TURN_LEFT).code == "challenge_not_met"


def test_first_turning_the_wrong_way_fails() -> None:
    frames = burst([0, 0, -30, -5, 30, 0])
    assert evaluate_motion(frames, Challenge.TURN_LEFT).code == "wrong_direction"


def test_turn_must_come_back_unless_configured() -> None:
    frames = burst([0, 0, 15, 30, 35])
    assert evaluate_motion(frames, Challenge.TURN_LEFT).code == "no_return"
    assert evaluate_motion(frames, Challenge.TURN_LEFT, config=LivenessConfig(require_return=False)).passed


def test_small_turn_is_not_enough() -> None:
    assert evaluate_motion(burst([0, 0, 5, 8, 4, 0]), Challenge.TURN_LEFT).code == "challenge_not_met"


def test_identical_landmarks_are_static() -> None:
    verdict = evaluate_motion([head_landmarks()] * 6, Challenge.TURN_LEFT)
    assert verdict.code == "static_frames" and "照片" in verdict.reason_chinese


def test_photo_moved_rotated_and_scaled_in_plane_fails() -> None:
    # A flat photo waved around: position, size and roll change, the proxies do not.
    frames = [
        head_landmarks(0, 0, roll, scale=scale, offset=(x, 240))
        for roll, scale, x in [(0, 60, 300), (0, 60, 300), (8, 70, 340), (15, 80, 380), (5, 65, 330), (0, 60, 300)]
    ]
    for challenge in Challenge:
        verdict = evaluate_motion(frames, challenge)
        assert verdict.code == "challenge_not_met", challenge
        assert verdict.measurements["max_landmark_motion"] > 0.5


def test_burst_must_start_frontal() -> None:
    assert evaluate_motion(burst([45, 45, 20, 45, 45]), Challenge.TURN_LEFT).code == "not_frontal_start"


def test_bad_input_is_invalid() -> None:
    with pytest.raises(InvalidInput) as exc:
        evaluate_motion(TURN_LEFT[:2], Challenge.TURN_LEFT)
    assert exc.value.code == "liveness_frames"
    with pytest.raises(InvalidInput) as exc:
        evaluate_motion(TURN_LEFT, "blink")
    assert exc.value.code == "unknown_challenge"


# --- matching ---------------------------------------------------------------------------


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_verify_reports_distance_score_and_explanation() -> None:
    ref = unit_rows(1)[0]
    probe = ref.copy()
    probe[0] += 0.3
    v = verify(probe, ref)
    assert v.distance == pytest.approx(0.3, abs=1e-6)
    assert v.matched and v.threshold == 0.5 and 0.9 < v.score <= 1
    assert "0.6" in v.explanation_chinese and "99.38%" in v.explanation_chinese and "同一人" in v.explanation_chinese
    far = verify(probe, ref, threshold=0.25)
    assert not far.matched and far.score < 0.5 and "不是同一人" in far.explanation_chinese


def test_score_is_half_at_threshold_and_monotonic() -> None:
    assert match_score(0.5, 0.5) == pytest.approx(0.5)
    scores = [match_score(d, 0.5) for d in np.linspace(0, 2, 41)]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False))
    assert 0 <= scores[-1] < 1e-6 and scores[0] > 0.9999


def test_verify_rejects_bad_vectors() -> None:
    with pytest.raises(InvalidInput) as exc:
        verify(np.zeros(127), np.zeros(128))
    assert exc.value.code == "bad_embedding"
    with pytest.raises(InvalidInput):
        verify(np.full(128, np.nan), np.zeros(128))
    with pytest.raises(InvalidInput):
        verify(np.zeros(128), np.zeros(128), threshold=0)


def test_search_matches_brute_force() -> None:
    matrix = unit_rows(5000)
    ids = [f"subject-{i}" for i in range(len(matrix))]
    gallery = Gallery(matrix, ids)
    probe = matrix[1234] + np.float32(0.01)
    hits = gallery.search(probe, top_k=10)
    brute = np.linalg.norm(matrix - probe, axis=1)
    order = np.argsort(brute)[:10]
    assert [h.id for h in hits] == [ids[i] for i in order]
    assert [h.distance for h in hits] == pytest.approx(brute[order].tolist(), abs=1e-4)
    assert hits[0].id == "subject-1234" and hits[0].matched and not hits[1].matched


def test_search_with_raw_matrix_and_edge_cases() -> None:
    matrix = unit_rows(3, seed=2)
    hits = search(matrix[2], matrix, top_k=10)
    assert [h.id for h in hits][0] == 2 and len(hits) == 3
    assert search(matrix[0], np.zeros((0, 128), np.float32)) == []
    with pytest.raises(InvalidInput):
        Gallery(matrix, ["a"])
    with pytest.raises(InvalidInput):
        Gallery(np.zeros((3, 64)), ["a", "b", "c"])
    with pytest.raises(InvalidInput):
        search(matrix[0], matrix, top_k=0)


def test_gallery_keeps_its_own_copy() -> None:
    matrix = unit_rows(4)
    gallery = Gallery(matrix, list("abcd"))
    probe = matrix[2].copy()
    matrix[2] = 0  # the caller's array stays writable and edits do not leak in
    assert gallery.search(probe, top_k=1)[0].id == "c"
    with pytest.raises(ValueError):
        gallery._matrix[0, 0] = 1.0
