"""The face engine: dlib HOG detector, 5-point landmarks, ResNet 128-d descriptors.

Models come from the ``face_recognition_models`` package and load once per process
(:func:`get_engine`). Only the 5-point landmark model is used: the 68-point model's licence
forbids commercial use. dlib objects are not safe for concurrent use, so each model is
guarded by its own lock; calls from several threads are serialised per model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from zhijiao.checkins.face.config import DEFAULT_FACE_CONFIG, FaceConfig
from zhijiao.checkins.face.geometry import pose_from_landmarks
from zhijiao.checkins.face.image import DecodedImage, decode_image, from_array, reduce_max_side
from zhijiao.checkins.face.quality import (
    FaceQuality,
    assess_face,
    inner_region,
    no_single_face,
    to_gray,
)
from zhijiao.config import MissingExtra
from zhijiao.core.errors import InvalidInput

try:
    import dlib
    import face_recognition_models
except ImportError:  # the optional extra zhijiao[face]: the rest of the app runs without it
    dlib = face_recognition_models = None

CHIP_SIZE = 150  # what dlib's ResNet expects
CHIP_PADDING = 0.25  # dlib's default for that model


@dataclass(frozen=True, slots=True)
class Box:
    """Face box in original-resolution pixels."""

    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True, slots=True, eq=False)  # holds arrays
class FoundFace:
    """A detection in working-image coordinates (see :class:`DecodedImage`)."""

    rect: dlib.rectangle
    score: float
    shape: dlib.full_object_detection
    landmarks: np.ndarray  # (5, 2) float32


class FaceRejected(InvalidInput):
    """The image is a valid picture but fails the quality gate (422, code = quality code)."""

    def __init__(self, quality: FaceQuality) -> None:
        self.quality = quality
        super().__init__(
            quality.message,
            code=str(quality.code),
            fields={str(i.code): i.message for i in quality.issues},
        )


@dataclass(frozen=True, slots=True, eq=False)  # holds arrays
class FaceAnalysis:
    embedding: np.ndarray | None  # float32[128], only when the quality gate passed
    quality: FaceQuality
    box: Box | None
    landmarks: np.ndarray | None  # (5, 2) float32, original-resolution pixels
    image_size: tuple[int, int]  # (width, height), original resolution

    def require_ok(self) -> np.ndarray:
        """The embedding, or :class:`FaceRejected` with the first failing quality code."""
        if self.embedding is None:
            raise FaceRejected(self.quality)
        return self.embedding


class FaceEngine:
    def __init__(
        self,
        *,
        detector: dlib.fhog_object_detector,
        predictor: dlib.shape_predictor,
        recognizer: dlib.face_recognition_model_v1,
        config: FaceConfig = DEFAULT_FACE_CONFIG,
    ) -> None:
        self.config = config
        self._detector = detector
        self._predictor = predictor
        self._recognizer = recognizer
        self._detect_lock = threading.Lock()
        self._predict_lock = threading.Lock()
        self._embed_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        *,
        landmarks_path: str | None = None,
        embedding_path: str | None = None,
        config: FaceConfig = DEFAULT_FACE_CONFIG,
    ) -> FaceEngine:
        if dlib is None or face_recognition_models is None:
            raise MissingExtra("face")  # 503 to the kiosk, the phone and the enrolling officer
        landmarks_path = landmarks_path or face_recognition_models.pose_predictor_five_point_model_location()
        embedding_path = embedding_path or face_recognition_models.face_recognition_model_location()
        return cls(
            detector=dlib.get_frontal_face_detector(),
            predictor=dlib.shape_predictor(landmarks_path),
            recognizer=dlib.face_recognition_model_v1(embedding_path),
            config=config,
        )

    # -- building blocks -------------------------------------------------------------------

    def find_faces(self, rgb: np.ndarray, *, config: FaceConfig | None = None) -> list[FoundFace]:
        """Faces scoring at least ``min_detection_score``, largest first, with landmarks."""
        cfg = config or self.config
        small, factor = reduce_max_side(rgb, cfg.detect_max_side)
        # Upsampling quadruples the work and only finds faces under the detector's 80 px window.
        # A face big enough to pass the gate is found without it; only when nothing is, look
        # again upsampled (so a too-small face answers ``face_too_small``, not ``no_face``).
        upsamples = (0, cfg.detect_upsample) if cfg.detect_upsample else (0,)
        for upsample in upsamples:
            with self._detect_lock:
                rects, scores, _ = self._detector.run(small, upsample, 0.0)
            if any(score >= cfg.min_detection_score for score in scores):
                break
        found = []
        for rect, score in zip(rects, scores, strict=True):
            if score < cfg.min_detection_score:
                continue
            full = dlib.rectangle(
                round(rect.left() * factor),
                round(rect.top() * factor),
                round(rect.right() * factor),
                round(rect.bottom() * factor),
            )
            with self._predict_lock:
                shape = self._predictor(rgb, full)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            found.append(FoundFace(rect=full, score=float(score), shape=shape, landmarks=points))
        found.sort(key=lambda f: f.rect.area(), reverse=True)
        return found

    def face_chip(self, rgb: np.ndarray, face: FoundFace) -> np.ndarray:
        """Aligned 150x150 RGB crop (eyes and nose at fixed positions)."""
        return np.asarray(dlib.get_face_chip(rgb, face.shape, size=CHIP_SIZE, padding=CHIP_PADDING))

    def embed_chip(self, chip: np.ndarray) -> np.ndarray:
        """128-d descriptor of an aligned chip from :meth:`face_chip`."""
        with self._embed_lock:
            vector = self._recognizer.compute_face_descriptor(np.ascontiguousarray(chip))
        return np.asarray(vector, dtype=np.float32)

    # -- the one call most code needs -------------------------------------------------------

    def analyze(self, image_bytes: bytes, *, config: FaceConfig | None = None) -> FaceAnalysis:
        """Decode, gate and embed one photo. Raises only for undecodable or oversized input;
        quality failures come back in ``quality`` (use :meth:`FaceAnalysis.require_ok`)."""
        cfg = config or self.config
        return self.analyze_image(decode_image(image_bytes, config=cfg), config=cfg)

    def analyze_image(
        self, image: DecodedImage | np.ndarray, *, config: FaceConfig | None = None
    ) -> FaceAnalysis:
        cfg = config or self.config
        img = image if isinstance(image, DecodedImage) else from_array(image)
        faces = self.find_faces(img.rgb, config=cfg)
        if len(faces) != 1:
            return FaceAnalysis(None, no_single_face(len(faces)), None, None, img.original_size)
        face = faces[0]
        chip = self.face_chip(img.rgb, face)
        quality = assess_face(
            face_px=min(face.rect.width(), face.rect.height()) * img.scale,
            detection_score=face.score,
            face_gray=to_gray(inner_region(chip, CHIP_PADDING)),
            pose=pose_from_landmarks(face.landmarks),
            config=cfg,
        )
        embedding = self.embed_chip(chip) if quality.passed else None
        box = Box(
            left=round(face.rect.left() * img.scale),
            top=round(face.rect.top() * img.scale),
            width=round(face.rect.width() * img.scale),
            height=round(face.rect.height() * img.scale),
        )
        landmarks = (face.landmarks * np.float32(img.scale)).astype(np.float32)
        return FaceAnalysis(embedding, quality, box, landmarks, img.original_size)


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> FaceEngine:
    """The process-wide engine; models load on first use (~0.1-0.5 s), thread-safe."""
    global _engine
    engine = _engine
    if engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = FaceEngine.load()
            engine = _engine
    return engine
