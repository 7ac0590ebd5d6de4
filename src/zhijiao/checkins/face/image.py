"""Decoding untrusted image bytes into an RGB array, and resizing for detection."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageOps

from zhijiao.checkins.face.config import DEFAULT_FACE_CONFIG, MB, FaceConfig
from zhijiao.checkins.face.quality import MESSAGES, QualityCode
from zhijiao.core.errors import DomainError, InvalidInput, TooLarge

_SWAPPED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that exchange width and height


@dataclass(frozen=True, slots=True)
class DecodedImage:
    rgb: np.ndarray  # H x W x 3 uint8, C-contiguous, working resolution
    original_size: tuple[int, int]  # (width, height) as displayed, i.e. after EXIF rotation
    scale: float  # original pixels per working pixel (>= 1)


def not_an_image(detail: str = "") -> InvalidInput:
    text = MESSAGES[QualityCode.NOT_AN_IMAGE]
    return InvalidInput(f"{text}{'：' + detail if detail else ''}", code=QualityCode.NOT_AN_IMAGE)


def too_large(detail: str) -> TooLarge:
    return TooLarge(f"{MESSAGES[QualityCode.IMAGE_TOO_LARGE]}（{detail}）", code=QualityCode.IMAGE_TOO_LARGE)


def decode_image(data: bytes, *, config: FaceConfig = DEFAULT_FACE_CONFIG) -> DecodedImage:
    """Decode JPEG/PNG/WEBP/BMP bytes, apply EXIF rotation, reduce to the working size.

    Raises ``InvalidInput(code="not_an_image")`` (422) or ``TooLarge(code="image_too_large")``
    (413). Pixel dimensions are checked from the header before any pixel is decoded.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise not_an_image()
    if len(data) > config.max_bytes:
        raise too_large(f"{len(data) / MB:.1f} MB，上限 {config.max_bytes / MB:.0f} MB")
    try:
        im = Image.open(io.BytesIO(data), formats=list(config.allowed_formats))
        width, height = im.size
        if width < 1 or height < 1:
            raise not_an_image("尺寸为零")
        if width * height > config.max_pixels or max(width, height) > config.max_side:
            raise too_large(f"{width}×{height} 像素")
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
        ratio = config.work_max_side / max(width, height)
        if ratio < 1:  # JPEG only: decode directly at 1/2, 1/4 or 1/8 scale
            im.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
        im = ImageOps.exif_transpose(im).convert("RGB")
        if max(im.size) > config.work_max_side:
            im.thumbnail((config.work_max_side, config.work_max_side), Image.Resampling.BILINEAR)
        rgb = np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    except DomainError:
        raise
    except Image.DecompressionBombError as exc:
        raise too_large("像素数超出安全上限") from exc
    except Exception as exc:  # untrusted input: any decoder failure means "not an image"
        raise not_an_image() from exc
    original = (height, width) if orientation in _SWAPPED_ORIENTATIONS else (width, height)
    return DecodedImage(rgb=rgb, original_size=original, scale=max(width, height) / max(rgb.shape[:2]))


def from_array(rgb: np.ndarray) -> DecodedImage:
    """Wrap an RGB (or grey) uint8 array that is already in memory (frames, tests)."""
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3):
        raise not_an_image("需要 uint8 的 RGB 数组")
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.shape[2] != 3:
        raise not_an_image("需要 3 个颜色通道")
    return DecodedImage(rgb=np.ascontiguousarray(arr), original_size=(arr.shape[1], arr.shape[0]), scale=1.0)


def reduce_max_side(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so that the longer side is at most ``max_side``; returns (image, factor),
    where ``factor`` is input pixels per output pixel (1.0 when nothing was done)."""
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return rgb, 1.0
    factor = longest / max_side
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(small)), factor


def gray_thumbnail(rgb: np.ndarray, size: int = 64) -> np.ndarray:
    """Small grey copy used to compare burst frames."""
    im = Image.fromarray(rgb).convert("L").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32)
