"""Head-pose proxies from dlib's 5 landmarks (pure functions, no model).

dlib's 5-point model returns, by image position: 0-1 the corners of the eye on the image's
right, 2-3 the corners of the eye on the image's left, 4 the base of the nose.

* roll: angle of the line from the left eye centre to the right eye centre, in degrees.
* yaw proxy: offset of the nose base from the eyes' midpoint *along* the eye line, divided by
  the inter-ocular distance. 0 when facing the camera; positive when the nose points towards
  the image's right. For a real head it grows like ~0.4·tan(yaw); a flat photo turned in front
  of the camera keeps it near 0, because eyes and nose lie in one plane.
* pitch proxy: distance of the nose base *below* the eye line, divided by the inter-ocular
  distance (about 0.7 facing the camera, it changes when the head nods).

Both proxies are invariant to where the face is in the frame, its size, and roll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Pose:
    roll_deg: float
    yaw: float
    pitch: float
    interocular: float  # pixels, in the coordinates of the landmarks given


def pose_from_landmarks(landmarks: np.ndarray) -> Pose:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError("expected 5 finite (x, y) landmarks")
    right_eye = pts[0:2].mean(axis=0)
    left_eye = pts[2:4].mean(axis=0)
    eye_line = right_eye - left_eye
    iod = float(np.hypot(*eye_line))
    if iod < 1e-6:
        raise ValueError("degenerate landmarks: eyes coincide")
    ux, uy = eye_line / iod
    nose = pts[4] - (left_eye + right_eye) / 2
    return Pose(
        roll_deg=math.degrees(math.atan2(uy, ux)),
        yaw=float(nose[0] * ux + nose[1] * uy) / iod,
        pitch=float(ux * nose[1] - uy * nose[0]) / iod,
        interocular=iod,
    )
