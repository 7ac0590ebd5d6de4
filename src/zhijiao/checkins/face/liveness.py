"""Active liveness: the person performs a random challenge over a short burst of frames.

How it works. For each frame we find exactly one face and its 5 landmarks and compute the
pose proxies of :mod:`zhijiao.checkins.face.geometry`: yaw (horizontal nose offset from the
eyes' midpoint / inter-ocular distance) and pitch (nose distance below the eye line /
inter-ocular distance). The first ``baseline_frames`` give the baseline. ``turn_left`` /
``turn_right`` pass when yaw moves past ``yaw_threshold`` in the requested direction (and
not first the other way), ``nod`` when pitch moves past ``pitch_threshold``; with
``require_return`` the head must then come back towards the baseline. The first, the peak
and the last frame must show the same person (descriptor distance under a threshold).

Direction convention. "Left" is the subject's own left. In an un-mirrored camera image the
subject's left is the image's right, so ``turn_left`` expects yaw to *increase*. Clients that
send mirrored (selfie-preview) frames must say so with ``mirrored=True``.

What it stops. A still photo held to the camera (frames identical or nearly so, reported as
``static_frames``); a photo moved, tilted or turned in front of the camera (eyes and nose are
coplanar on paper, so the yaw/pitch proxies hardly move: ``challenge_not_met``); a challenge
performed by a different person than the one at the start (``identity_changed``).

What it cannot stop. Replay of a recorded video of the person doing the same movement
(challenges are few, so a small library of clips covers them); a live screen or video call
replay in which someone else steers a real recording; a realistic 3-D mask or a bent/curved
printed photo, which do produce nose-vs-eye parallax; deep-fake video injected into a
compromised client or virtual camera. Passive anti-spoofing (texture, depth, IR) and device
attestation are out of scope here; treat a pass as "a 3-D head moved on request", not as
proof of presence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from zhijiao.checkins.face.config import (
    DEFAULT_FACE_CONFIG,
    DEFAULT_LIVENESS_CONFIG,
    FaceConfig,
    LivenessConfig,
)
from zhijiao.checkins.face.engine import FaceEngine, get_engine
from zhijiao.checkins.face.geometry import pose_from_landmarks
from zhijiao.checkins.face.image import decode_image, gray_thumbnail
from zhijiao.core.errors import InvalidInput

Measurements = dict[str, float | int | list[float]]


class Challenge(StrEnum):
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    NOD = "nod"


CHALLENGE_PROMPTS: dict[Challenge, str] = {
    Challenge.TURN_LEFT: "请缓慢向左转头，再转回正对镜头",
    Challenge.TURN_RIGHT: "请缓慢向右转头，再转回正对镜头",
    Challenge.NOD: "请缓慢点头，再抬头正对镜头",
}

_ACTION = {Challenge.TURN_LEFT: "向左转头", Challenge.TURN_RIGHT: "向右转头", Challenge.NOD: "点头"}


@dataclass(frozen=True, slots=True)
class Liveness:
    passed: bool
    challenge: Challenge
    code: str  # "passed" or a stable failure code
    reason_chinese: str
    measurements: Measurements = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MotionVerdict:
    passed: bool
    code: str
    reason_chinese: str
    peak_index: int | None
    measurements: Measurements


def parse_challenge(value: Challenge | str) -> Challenge:
    try:
        return Challenge(value)
    except ValueError:
        raise InvalidInput("未知的活体动作", code="unknown_challenge", fields={"challenge": str(value)}) from None


def _fail(code: str, reason: str, meas: Measurements, peak: int | None = None) -> MotionVerdict:
    return MotionVerdict(False, code, reason, peak, meas)


def evaluate_motion(
    landmarks: Sequence[np.ndarray],
    challenge: Challenge | str,
    *,
    config: LivenessConfig = DEFAULT_LIVENESS_CONFIG,
    mirrored: bool = False,
) -> MotionVerdict:
    """Judge a challenge from per-frame 5-point landmarks alone (pure; no images, no model)."""
    challenge = parse_challenge(challenge)
    if len(landmarks) < config.min_frames:
        raise InvalidInput(f"活体检测至少需要 {config.min_frames} 帧", code="liveness_frames")
    pts = [np.asarray(p, dtype=np.float64) for p in landmarks]
    poses = [pose_from_landmarks(p) for p in pts]
    sign = -1.0 if mirrored else 1.0
    yaw = np.array([sign * p.yaw for p in poses])
    pitch = np.array([p.pitch for p in poses])
    b = config.baseline_frames
    base_yaw, base_pitch = float(np.median(yaw[:b])), float(np.median(pitch[:b]))
    motion = max(float(np.abs(p - pts[0]).max()) for p in pts) / poses[0].interocular
    meas: Measurements = {
        "frames": len(pts),
        "yaw": [round(float(v), 4) for v in yaw],
        "pitch": [round(float(v), 4) for v in pitch],
        "baseline_yaw": round(base_yaw, 4),
        "baseline_pitch": round(base_pitch, 4),
        "max_landmark_motion": round(motion, 4),
    }
    if motion < config.static_landmark_motion:
        return _fail("static_frames", "连续画面中人脸几乎没有任何变化，疑似使用静态照片，请按提示做动作", meas)
    if abs(base_yaw) > config.max_start_yaw:
        return _fail("not_frontal_start", "开始时请先正对镜头，再按提示做动作", meas)

    if challenge is Challenge.NOD:
        delta = pitch - base_pitch
        # A head turn shrinks the projected inter-ocular distance and so inflates the pitch
        # proxy (1/cos yaw): frames that are turned do not count towards a nod.
        progress = np.where(np.abs(yaw - base_yaw) < config.yaw_threshold, np.abs(delta), 0.0)
        threshold = config.pitch_threshold
        wrong = np.zeros_like(progress, dtype=bool)
    else:
        direction = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        delta = yaw - base_yaw
        progress = direction * delta
        threshold = config.yaw_threshold
        wrong = progress <= -threshold
    hits = np.flatnonzero(progress >= threshold)
    peak = int(np.argmax(progress))
    meas["peak_delta"] = round(float(delta[peak]), 4)
    meas["threshold"] = threshold
    action = _ACTION[challenge]
    first_wrong = int(np.argmax(wrong)) if wrong.any() else None
    if first_wrong is not None and (len(hits) == 0 or first_wrong < hits[0]):
        return _fail("wrong_direction", f"动作方向不对，请{action}", meas, peak)
    if len(hits) < config.min_hold_frames:
        return _fail("challenge_not_met", f"未检测到明显的{action}动作，请按提示转动头部（照片无法完成该动作）", meas, peak)
    if config.require_return:
        back = np.abs(delta[peak + 1 :]) <= threshold * config.return_fraction
        if not back.any():
            return _fail("no_return", f"{action}后请回到正对镜头", meas, peak)
    return MotionVerdict(True, "passed", f"已完成{action}动作", peak, meas)


def check_liveness(
    frames: Sequence[bytes],
    challenge: Challenge | str,
    *,
    engine: FaceEngine | None = None,
    face_config: FaceConfig = DEFAULT_FACE_CONFIG,
    config: LivenessConfig = DEFAULT_LIVENESS_CONFIG,
    mirrored: bool = False,
) -> Liveness:
    """Run the active challenge over a burst of encoded frames (in capture order)."""
    challenge = parse_challenge(challenge)
    if not config.min_frames <= len(frames) <= config.max_frames:
        raise InvalidInput(
            f"活体检测需要 {config.min_frames}–{config.max_frames} 帧，收到 {len(frames)} 帧",
            code="liveness_frames",
        )
    engine = engine or get_engine()
    landmarks: list[np.ndarray] = []
    thumbs: list[np.ndarray] = []
    chips: list[np.ndarray] = []
    for number, data in enumerate(frames, start=1):
        img = decode_image(data, config=face_config)
        faces = engine.find_faces(img.rgb, config=face_config)
        if len(faces) != 1:
            code = "face_lost" if not faces else "multiple_faces"
            what = "未检测到人脸" if not faces else "出现多张人脸"
            reason = f"第 {number} 帧{what}，请保持本人正对镜头并完整入镜"
            return Liveness(False, challenge, code, reason, {"frames": len(frames), "frame": number})
        landmarks.append(faces[0].landmarks)
        thumbs.append(gray_thumbnail(img.rgb))
        chips.append(engine.face_chip(img.rgb, faces[0]))

    frame_diff = max(float(np.abs(t - thumbs[0]).mean()) for t in thumbs)
    verdict = evaluate_motion(landmarks, challenge, config=config, mirrored=mirrored)
    meas = {**verdict.measurements, "max_frame_diff": round(frame_diff, 3)}
    if frame_diff < config.static_pixel_diff:
        reason = "连续画面几乎完全相同，疑似使用静态照片或截图，请本人按提示做动作"
        return Liveness(False, challenge, "static_frames", reason, meas)
    if not verdict.passed:
        return Liveness(False, challenge, verdict.code, verdict.reason_chinese, meas)

    first = engine.embed_chip(chips[0])
    checked = sorted({verdict.peak_index or 0, len(chips) - 1} - {0})
    distance = max(float(np.linalg.norm(engine.embed_chip(chips[i]) - first)) for i in checked)
    meas["identity_distance"] = round(distance, 4)
    if distance > config.same_person_threshold:
        return Liveness(False, challenge, "identity_changed", "检测过程中人脸发生变化，请本人独立完成动作", meas)
    return Liveness(True, challenge, "passed", verdict.reason_chinese, meas)
