"""ffmpeg comes from FFMPEG_BINARY when it is set, else from the imageio-ffmpeg wheel."""

from __future__ import annotations

import os
from pathlib import Path

import imageio_ffmpeg
import pytest

from screening.media.binary import FfmpegUnavailable, ffmpeg_binary


def test_default_is_the_wheels_static_build() -> None:
    path = ffmpeg_binary()
    assert path == imageio_ffmpeg.get_ffmpeg_exe()
    assert os.access(path, os.X_OK)


@pytest.mark.parametrize("configured", [None, ""])
def test_unset_setting_means_the_wheel(configured: str | None) -> None:
    assert ffmpeg_binary(configured) == imageio_ffmpeg.get_ffmpeg_exe()


def test_configured_path_is_used(tmp_path: Path) -> None:
    link = tmp_path / "my-ffmpeg"
    link.symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    assert ffmpeg_binary(str(link)) == str(Path(imageio_ffmpeg.get_ffmpeg_exe()).resolve())


def test_configured_name_is_looked_up_on_path() -> None:
    assert Path(ffmpeg_binary("sh")).name in {"sh", "dash", "bash", "busybox"}


def test_missing_binary_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FfmpegUnavailable, match="not an executable file"):
        ffmpeg_binary(str(tmp_path / "nowhere" / "ffmpeg"))


def test_non_executable_file_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "ffmpeg"
    plain.write_text("not a program")
    plain.chmod(0o644)
    with pytest.raises(FfmpegUnavailable):
        ffmpeg_binary(str(plain))
