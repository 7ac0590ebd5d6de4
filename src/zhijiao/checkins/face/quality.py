"""Quality gate: stable codes, Chinese messages, and the measurements behind them.

Measurements are taken on the aligned face chip (the same 150x150 crop the embedding model
sees), restricted to its inner face region so that background and hair do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from zhijiao.checkins.face.config import FaceConfig
from zhijiao.checkins.face.geometry import Pose


class QualityCode(StrEnum):
    NOT_AN_IMAGE = "not_an_image"
    IMAGE_TOO_LARGE = "image_too_large"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    NOT_FRONTAL = "not_frontal"
    BAD_EXPOSURE = "bad_exposure"
    TOO_BLURRY = "too_blurry"


MESSAGES: dict[QualityCode, str] = {
    QualityCode.NOT_AN_IMAGE: "上传的文件不是有效的图片（支持 JPEG、PNG、WEBP、BMP）",
    QualityCode.IMAGE_TOO_LARGE: "图片过大，请压缩后重新上传",
    QualityCode.NO_FACE: "未检测到人脸，请正对镜头、露出完整面部后重拍",
    QualityCode.MULTIPLE_FACES: "画面中有多张人脸，请确保只有本人入镜",
    QualityCode.FACE_TOO_SMALL: "人脸过小，请靠近镜头后重拍",
    QualityCode.NOT_FRONTAL: "请正对镜头，不要侧脸或歪头",
    QualityCode.BAD_EXPOSURE: "光线不合适，请在光线均匀处重拍",
    QualityCode.TOO_BLURRY: "人脸图像模糊，请保持手机稳定、擦拭镜头后重拍",
}


@dataclass(frozen=True, slots=True)
class QualityIssue:
    code: QualityCode
    message: str


@dataclass(frozen=True, slots=True)
class FaceQuality:
    """Outcome of the gate; ``issues`` is empty when the image may be used."""

    issues: tuple[QualityIssue, ...]
    face_count: int
    face_px: float | None = None  # shortest side of the face box, original pixels
    detection_score: float | None = None
    sharpness: float | None = None
    luminance: float | None = None
    roll_deg: float | None = None
    yaw: float | None = None
    pitch: float | None = None

    @property
    def passed(self) -> bool:
        return not self.issues

    @property
    def code(self) -> QualityCode | None:
        return self.issues[0].code if self.issues else None

    @property
    def message(self) -> str:
        return self.issues[0].message if self.issues else "图像质量合格"

    @property
    def codes(self) -> tuple[QualityCode, ...]:
        return tuple(issue.code for issue in self.issues)


def issue(code: QualityCode, detail: str = "") -> QualityIssue:
    text = MESSAGES[code]
    return QualityIssue(code, f"{text}（{detail}）" if detail else text)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma as float32."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return rgb.astype(np.float32) @ weights


def inner_region(chip: np.ndarray, padding: float) -> np.ndarray:
    """The face itself inside a dlib chip made with ``padding`` (fraction of the face width)."""
    size = chip.shape[0]
    margin = round(size * padding / (1 + 2 * padding))
    return chip[margin : size - margin, margin : size - margin]


def sharpness(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian after normalising contrast (std 50).

    Normalising keeps dark or washed-out but sharp faces from reading as blurred; those are
    caught by the exposure check instead.
    """
    std = float(gray.std())
    g = (gray - gray.mean()) * (50.0 / max(std, 1.0))
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def assess_face(
    *,
    face_px: float,
    detection_score: float,
    face_gray: np.ndarray,
    pose: Pose,
    config: FaceConfig,
) -> FaceQuality:
    """Gate one detected face; all failing checks are reported, most actionable first."""
    sharp = sharpness(face_gray)
    lum = float(face_gray.mean())
    issues: list[QualityIssue] = []
    if face_px < config.min_face_px:
        issues.append(
            issue(QualityCode.FACE_TOO_SMALL, f"{face_px:.0f} 像素，至少需要 {config.min_face_px} 像素")
        )
    if abs(pose.roll_deg) > config.max_roll_deg:
        issues.append(issue(QualityCode.NOT_FRONTAL, f"头部倾斜约 {abs(pose.roll_deg):.0f}°"))
    elif abs(pose.yaw) > config.max_yaw:
        issues.append(issue(QualityCode.NOT_FRONTAL, "面部明显偏向一侧"))
    if lum < config.min_luminance:
        issues.append(issue(QualityCode.BAD_EXPOSURE, "光线过暗"))
    elif lum > config.max_luminance:
        issues.append(issue(QualityCode.BAD_EXPOSURE, "光线过亮或过曝"))
    if sharp < config.min_sharpness:
        issues.append(issue(QualityCode.TOO_BLURRY))
    return FaceQuality(
        issues=tuple(issues),
        face_count=1,
        face_px=face_px,
        detection_score=detection_score,
        sharpness=sharp,
        luminance=lum,
        roll_deg=pose.roll_deg,
        yaw=pose.yaw,
        pitch=pose.pitch,
    )


def no_single_face(face_count: int) -> FaceQuality:
    code = QualityCode.NO_FACE if face_count == 0 else QualityCode.MULTIPLE_FACES
    detail = "" if face_count == 0 else f"检测到 {face_count} 张"
    return FaceQuality(issues=(issue(code, detail),), face_count=face_count)
