"""A fake camera for chromium: a Y4M video built from a real face, for
``--use-file-for-fake-video-capture``.

The face is scikit-image's ``astronaut`` (the photograph the face engine's tests use). A head
turn cannot be photographed here, so it is a horizontal shear about the eye line, as in the
engine's tests: positive shear moves the nose towards the image's left, which is the subject's
right in an un-mirrored camera image (``turn_right``). Chromium starts the file from its first
frame when a page opens the camera and loops it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

EYE_Y = 103  # the eye line in HEAD's pixels
FPS = 10
WIDTH, HEIGHT = 640, 480


def head() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()[0:300, 50:350])


def shear(im: Image.Image, s: float) -> Image.Image:
    return im.transform(im.size, Image.Transform.AFFINE, (1, s, -s * EYE_Y, 0, 1, 0),
                        resample=Image.Resampling.BICUBIC)


def frame(face: Image.Image | None) -> np.ndarray:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (118, 122, 128))
    if face is not None:
        canvas.paste(face, ((WIDTH - face.width) // 2, 90))
    return np.asarray(canvas)


def jpeg(im: Image.Image, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def turn_right_timeline(facing_s: float = 1.3) -> list[tuple[Image.Image, float]]:
    """Facing the camera, turning the head to the subject's right and back, facing again."""
    h = head()
    return [(h, facing_s), (shear(h, 0.12), 0.3), (shear(h, 0.25), 0.5), (shear(h, 0.12), 0.3), (h, 3.0)]


def write_y4m(path: Path, timeline: Sequence[tuple[Image.Image | None, float]]) -> Path:
    """(image or None for an empty scene, seconds) in order, as 4:2:0 Y4M at 10 fps."""
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for face, seconds in timeline:
            rgb = frame(face).astype(np.float32)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 0.299 * r + 0.587 * g + 0.114 * b  # BT.601 full range (JPEG)
            u = (b - y) * 0.564 + 128
            v = (r - y) * 0.713 + 128
            half = (HEIGHT // 2, 2, WIDTH // 2, 2)
            planes = [y, u.reshape(half).mean(axis=(1, 3)), v.reshape(half).mean(axis=(1, 3))]
            data = b"".join(np.clip(p, 0, 255).astype(np.uint8).tobytes() for p in planes)
            for _ in range(max(1, round(seconds * FPS))):
                out.write(b"FRAME\n" + data)
    return path


def chromium_args(video: Path) -> list[str]:
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
