"""Tunable thresholds of the face engine and of the liveness check.

Defaults were calibrated on real photographs (scikit-image's ``astronaut`` and its
transformed copies, see ``tests/unit/checkins/test_face_engine.py``). The application's
settings may build other instances; every function takes its config as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FaceConfig:
    # Input limits (untrusted uploads).
    max_bytes: int = 5 * MB
    max_pixels: int = 40_000_000
    max_side: int = 10_000
    # Pillow decoders allowed (no EPS/PDF and other exotic ones); phones' multi-picture JPEGs
    # (MPO) open through the JPEG decoder.
    allowed_formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP")
    # Working resolution: larger photos are reduced on decode (JPEG draft mode) to this side.
    work_max_side: int = 1600
    # Detection runs on a copy reduced to this side; upsampling 1 finds faces >= ~40 px there.
    detect_max_side: int = 640
    detect_upsample: int = 1
    # HOG scores: real faces score ~0.4-1.6, false positives (e.g. a mission patch) < 0.15.
    min_detection_score: float = 0.3
    # Quality gate.
    min_face_px: int = 80  # shortest side of the face box, in original-resolution pixels
    # Contrast-normalised variance of Laplacian on the face region of the aligned chip:
    # sharp photo ~400, Gaussian blur sigma 1 px on a 90 px face ~56, sigma 1.5 ~22, 2 ~12.
    min_sharpness: float = 25.0
    # Mean grey level (0-255) of the face region: well-lit face ~175.
    min_luminance: float = 50.0
    max_luminance: float = 225.0
    max_roll_deg: float = 20.0  # eye line tilt
    max_yaw: float = 0.2  # nose offset from the eyes' midpoint / inter-ocular distance
    # Matching: Euclidean distance between 128-d descriptors.
    match_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0 or self.max_side <= 0:
            raise ValueError("image limits must be positive")
        if self.detect_max_side < 64 or self.work_max_side < self.detect_max_side:
            raise ValueError("need 64 <= detect_max_side <= work_max_side")
        if not 0 <= self.detect_upsample <= 2:
            raise ValueError("detect_upsample must be 0, 1 or 2")
        if not 0 <= self.min_luminance < self.max_luminance <= 255:
            raise ValueError("need 0 <= min_luminance < max_luminance <= 255")
        if self.match_threshold <= 0:
            raise ValueError("match_threshold must be positive")


@dataclass(frozen=True, slots=True)
class LivenessConfig:
    min_frames: int = 4
    max_frames: int = 30
    baseline_frames: int = 2  # the challenge is measured against the median of these
    max_start_yaw: float = 0.2  # the burst must start roughly facing the camera
    yaw_threshold: float = 0.1  # ~15-20 degrees of head turn
    pitch_threshold: float = 0.08  # ~15 degrees of nod
    min_hold_frames: int = 1  # frames beyond the threshold
    require_return: bool = True  # turn (or nod) and come back
    return_fraction: float = 0.5  # "back" = within this fraction of the threshold
    static_pixel_diff: float = 1.0  # grey levels, 64x64 thumbnails, vs the first frame
    static_landmark_motion: float = 0.02  # landmark travel / inter-ocular distance
    same_person_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.baseline_frames < 1 or self.min_frames < self.baseline_frames + 2:
            raise ValueError("need baseline_frames >= 1 and min_frames >= baseline_frames + 2")
        if self.max_frames < self.min_frames:
            raise ValueError("max_frames < min_frames")
        if self.yaw_threshold <= 0 or self.pitch_threshold <= 0:
            raise ValueError("motion thresholds must be positive")
        if not 0 < self.return_fraction < 1:
            raise ValueError("return_fraction must be in (0, 1)")


DEFAULT_FACE_CONFIG = FaceConfig()
DEFAULT_LIVENESS_CONFIG = LivenessConfig()
