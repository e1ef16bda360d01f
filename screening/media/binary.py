"""Which ffmpeg to run: the one FFMPEG_BINARY names, else the static build shipped in imageio-ffmpeg.

The wheel's build has libx264, the HLS muxer and OpenSSL, so a fresh machine needs no system package.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import imageio_ffmpeg


class FfmpegUnavailable(RuntimeError):
    """The configured ffmpeg cannot be run; the message names the path so an operator can fix it."""


def ffmpeg_binary(configured: str | None = None) -> str:
    """The absolute path of the ffmpeg executable to run.

    ``configured`` is the FFMPEG_BINARY setting: a path, or a bare name looked up on PATH. An empty
    value means "not configured" (an unset environment variable often arrives as ``""``).
    """
    if configured:
        found = shutil.which(configured) if os.sep not in configured else configured
        path = Path(found) if found else None
        if path is None or not path.is_file() or not os.access(path, os.X_OK):
            raise FfmpegUnavailable(
                f"FFMPEG_BINARY is set to {configured!r}, which is not an executable file."
            )
        return str(path.resolve())
    return str(imageio_ffmpeg.get_ffmpeg_exe())
