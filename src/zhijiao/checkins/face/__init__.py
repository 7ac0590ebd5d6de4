"""Face verification for check-ins: quality gate, 1:1 / 1:N matching, active liveness.

Typical use::

    from zhijiao.checkins import face

    analysis = face.get_engine().analyze(photo_bytes)
    probe = analysis.require_ok()            # FaceRejected (422, code = quality code) if bad
    result = face.verify(probe, enrolled_embedding)
    live = face.check_liveness(frames, face.Challenge.TURN_LEFT)
"""

from zhijiao.checkins.face.config import FaceConfig, LivenessConfig
from zhijiao.checkins.face.engine import (
    Box,
    FaceAnalysis,
    FaceEngine,
    FaceRejected,
    FoundFace,
    get_engine,
)
from zhijiao.checkins.face.geometry import Pose, pose_from_landmarks
from zhijiao.checkins.face.image import DecodedImage, decode_image
from zhijiao.checkins.face.liveness import (
    CHALLENGE_PROMPTS,
    Challenge,
    Liveness,
    MotionVerdict,
    check_liveness,
    evaluate_motion,
)
from zhijiao.checkins.face.matching import (
    DEFAULT_THRESHOLD,
    EMBEDDING_DIM,
    Gallery,
    SearchHit,
    Verification,
    match_score,
    search,
    verify,
)
from zhijiao.checkins.face.quality import FaceQuality, QualityCode, QualityIssue

__all__ = [
    "CHALLENGE_PROMPTS",
    "DEFAULT_THRESHOLD",
    "EMBEDDING_DIM",
    "Box",
    "Challenge",
    "DecodedImage",
    "FaceAnalysis",
    "FaceConfig",
    "FaceEngine",
    "FaceQuality",
    "FaceRejected",
    "FoundFace",
    "Gallery",
    "Liveness",
    "LivenessConfig",
    "MotionVerdict",
    "Pose",
    "QualityCode",
    "QualityIssue",
    "SearchHit",
    "Verification",
    "check_liveness",
    "decode_image",
    "evaluate_motion",
    "get_engine",
    "match_score",
    "pose_from_landmarks",
    "search",
    "verify",
]
