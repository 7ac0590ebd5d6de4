"""Face engine benchmark: prints ONE JSON line.

Usage: PYTHONPATH=src python bench/face.py  [--frames 30] [--queries 200] [--gallery 100000]

* analyze_ms: detect (HOG, upsample 1 on the 640x480 frame) + 5 landmarks + aligned chip +
  quality measures + 128-d ResNet descriptor, on scikit-image's astronaut resized to 480x480
  and padded to 640x480 (one face). Decoding is measured separately (decode_jpeg_ms).
* search_ms: 1:N query against N random unit descriptors (float32, norms precomputed).
* engine_rss_mb: resident memory added by loading the models and running one inference.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

try:
    import zhijiao  # noqa: F401
except ImportError:  # running from a checkout without PYTHONPATH=src
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhijiao.checkins import face
from zhijiao.checkins.face.image import decode_image


def rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # fallback: peak, not current (kB on Linux, bytes on macOS)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return round(statistics.median(samples), 2), round(p95, 2)


def frame_640x480() -> np.ndarray:
    from skimage import data  # test/bench dependency only

    face_img = Image.fromarray(data.astronaut()).resize((480, 480), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (640, 480), (90, 90, 90))
    canvas.paste(face_img, (80, 0))
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--gallery", type=int, default=100_000)
    args = parser.parse_args()

    frame = frame_640x480()
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()

    rss_before = rss_mb()
    start = time.perf_counter()
    engine = face.get_engine()
    load_ms = (time.perf_counter() - start) * 1000
    first = engine.analyze_image(frame)  # warm-up, allocates the network's buffers
    rss_after = rss_mb()
    if not first.quality.passed:
        raise SystemExit(f"benchmark frame failed the quality gate: {first.quality.codes}")

    analyze_med, analyze_p95 = timed(lambda: engine.analyze_image(frame), args.frames)
    detect_med, _ = timed(lambda: engine.find_faces(frame), 10)
    chip = engine.face_chip(frame, engine.find_faces(frame)[0])
    embed_med, _ = timed(lambda: engine.embed_chip(chip), 10)
    decode_med, _ = timed(lambda: decode_image(jpeg), 10)

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((args.gallery, 128), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    start = time.perf_counter()
    gallery = face.Gallery(matrix, range(args.gallery))
    build_ms = (time.perf_counter() - start) * 1000
    probes = iter(matrix[rng.integers(0, args.gallery, args.queries + 5)] + np.float32(0.01))
    for _ in range(5):
        gallery.search(next(probes), top_k=5)
    search_med, search_p95 = timed(lambda: gallery.search(next(probes), top_k=5), args.queries)

    print(
        json.dumps(
            {
                "bench": "face",
                "frame": "640x480",
                "analyze_ms_median": analyze_med,
                "analyze_ms_p95": analyze_p95,
                "analyze_runs": args.frames,
                "detect_landmarks_ms_median": detect_med,
                "embed_ms_median": embed_med,
                "decode_jpeg_ms_median": decode_med,
                "search_ms_median": search_med,
                "search_ms_p95": search_p95,
                "search_gallery": args.gallery,
                "search_queries": args.queries,
                "gallery_build_ms": round(build_ms, 1),
                "engine_load_ms": round(load_ms, 1),
                "engine_rss_mb": round(rss_after - rss_before, 1),
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "dlib": getattr(__import__("dlib"), "__version__", "?"),
                "numpy": np.__version__,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
