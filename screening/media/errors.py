"""Exceptions of the media pipeline, in one place so callers can catch them without importing ffmpeg code.

Messages are plain English sentences written for the producer who uploaded the file; callers translate
or present them. No message ever carries key material.
"""

from __future__ import annotations

from typing import Literal

RejectionCode = Literal["not_video", "truncated", "no_video_stream", "too_long", "too_large"]
REJECTION_CODES: tuple[RejectionCode, ...] = (
    "not_video",
    "truncated",
    "no_video_stream",
    "too_long",
    "too_large",
)


class MediaRejected(Exception):
    """The upload cannot become a screener; ``code`` is stable (store it), ``message`` explains why."""

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(code, message)
        self.code: RejectionCode = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class PackagingFailed(Exception):
    """ffmpeg (or the check of what it wrote) failed.

    ``reason`` is a sentence fit for the producer; ``detail`` is the tail of ffmpeg's log, for the
    operators' log only. ``str()`` gives both.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}\n{self.detail}" if self.detail else self.reason


class PackagingCancelled(Exception):
    """``should_cancel()`` said stop: ffmpeg was terminated and nothing usable was left behind."""

    def __init__(self) -> None:
        super().__init__("Packaging was cancelled.")
