"""Running ffmpeg as a child process: progress from ``-progress pipe:1``, cancellation, failure reports.

stdout carries only progress blocks (``key=value`` lines, each block ending in ``progress=...``, about
twice a second once every output has started). A thread reads them into a queue so that the caller's
``should_cancel`` is asked at least every ``CANCEL_POLL_S`` even while ffmpeg prints nothing (starting
up, or stalled on slow storage). stderr goes to a file rather than a pipe: a chatty decoder could fill a
pipe nobody reads and stall ffmpeg; the file is read back only to quote its last lines on failure.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from screening.media.errors import PackagingCancelled, PackagingFailed

CANCEL_POLL_S = 0.5
TERMINATE_GRACE_S = 5.0
TAIL_LINES = 15
TAIL_BYTES = 8192

ProgressBlock = dict[str, str]


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM (ffmpeg closes its outputs and exits within a second), SIGKILL if it does not."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_tail(path: Path) -> str:
    """The last lines ffmpeg wrote to its log, for a failure report."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-TAIL_LINES:])


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            lines.put(line)
    finally:
        lines.put(None)


def run_ffmpeg(
    argv: Sequence[str],
    *,
    log_path: Path,
    on_progress: Callable[[ProgressBlock], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> None:
    """Run ffmpeg to the end.

    ``on_progress`` gets each progress block (``{"frame": "120", "out_time_us": ..., ...}``).
    ``should_cancel()`` is asked after each block and at least every ``CANCEL_POLL_S``; True terminates
    ffmpeg and raises ``PackagingCancelled``. A non-zero exit raises ``PackagingFailed`` quoting the end of
    the log. Whatever happens (a callback raising included), ffmpeg is not left running.
    """
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(  # noqa: S603 - argv list, no shell; the binary comes from settings
                list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
            )
        except OSError as error:
            raise PackagingFailed("ffmpeg could not be started.", str(error)) from None
        lines: queue.Queue[str | None] = queue.Queue()
        if process.stdout is None:  # never with stdout=PIPE; narrows the type
            raise PackagingFailed("ffmpeg's progress output could not be read.")
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            block: ProgressBlock = {}
            while True:
                try:
                    line = lines.get(timeout=CANCEL_POLL_S)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                key, separator, value = line.strip().partition("=")
                if separator:
                    block[key] = value
                if key == "progress" and on_progress is not None:
                    on_progress(block)
                    block = {}
                if (key == "progress" or not line) and should_cancel is not None and should_cancel():
                    raise PackagingCancelled()
            status = process.wait()
        finally:
            _stop(process)
            reader.join(timeout=TERMINATE_GRACE_S)
            process.stdout.close()
    if status != 0:
        raise PackagingFailed(f"ffmpeg stopped with exit status {status}.", log_tail(log_path))
