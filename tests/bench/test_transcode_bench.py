"""Transcoding benchmark: our whole packaging job against the very ffmpeg command it runs, run bare.

Source: 30 s of 1920x1080 testsrc2 at 25 fps with a 440 Hz stereo tone, H.264 (x264 superfast, CRF 20,
about 12 Mbit/s, roughly 45 MB) + AAC in MP4, generated here; the ladder is 1080p, 720p and 360p, in
2-second segments (package_hls's default: one forensic A/B symbol each, docs/forensics.md).

- ``transcode_realtime_factor``: seconds of video per wall second of ``package_hls`` (both forensic
  variants of the encrypted ladder, thumbnails, poster, timeline and output checks). Goal >= 1.0: a
  screener is ready in its own length.
- ``transcode_overhead_vs_ffmpeg``: ``package_hls``'s CPU seconds (ffmpeg children plus this process)
  over the floor's. The floor is the command package_hls runs (``command.ladder_command`` with the same
  arguments: the mark's pattern stream, both variants, the thumbnails), run bare, with no Python around
  it: no progress parsing, no splicing of B's windows, padding or encryption, no timeline, no poster, no
  checks. So the ratio measures what our own Python and the small extra ffmpeg runs add, not the price of
  the mark (test_watermark_bench.py measures that). Goal <= 1.15.

The probe runs before packaging and is reported on the BENCH-INFO line (its cost is one GOP of decoding
at each end, constant whatever the film's length).

CPU time is ``getrusage(RUSAGE_CHILDREN)`` (children that were waited for) plus ``RUSAGE_SELF`` for the
job's own Python, as deltas around each run (``tests/bench/stopwatch.py``). Machines are shared and
noisy, hence a ratio against a floor measured in the same run. BENCH_RUNS=n (default 1) alternates floor
and job n times and reports medians. Benchmarks assert that the work was done, never how fast.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
from pathlib import Path

from screening.forensics import mark
from screening.media.binary import ffmpeg_binary
from screening.media.command import MASTER_PLAYLIST, THUMBS_DIR, Thumbnails, ladder_command
from screening.media.keys import new_content_key
from screening.media.ladder import Rendition, plan_ladder
from screening.media.package import (
    PATTERN_SPARE_SEGMENTS,
    THUMB_EVERY_S,
    THUMB_WIDTH,
    PackageResult,
    package_hls,
)
from screening.media.probe import ProbeResult, probe
from tests.bench.stopwatch import Measure, Stopwatch

SECONDS = 30
WIDTH, HEIGHT, FPS = 1920, 1080, 25
SEGMENT_SECONDS = 2


def make_source(ffmpeg: str, path: Path) -> Path:
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SECONDS}"]
    argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"]
    argv += ["-c:v", "libx264", "-preset", "superfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "192k", "-ac", "2", str(path)]
    subprocess.run(argv, check=True)
    return path


def floor_command(
    ffmpeg: str, source: Path, work: Path, ladder: list[Rendition], facts: ProbeResult
) -> list[str]:
    """The floor: package_hls's own ffmpeg command for this source, as package_hls builds it from the
    probe (its pattern stream written first, outside the measure: a few kilobytes), writing into
    ``work``."""
    duration_s = facts.duration_s
    plain, out = work / "plain", work / "out"
    for folder in [*(plain / r.name for r in ladder), out / THUMBS_DIR]:
        folder.mkdir(parents=True)
    pattern = work / "pattern.yuv"
    segments = math.ceil(duration_s / SEGMENT_SECONDS) + PATTERN_SPARE_SEGMENTS
    mark.write_pattern_stream(pattern, mark.mark_secret(new_content_key()), segments)
    top = ladder[0]
    thumb_width = min(THUMB_WIDTH, top.width)
    thumb_height = max(2, round(thumb_width * top.height / top.width / 2) * 2)
    return ladder_command(
        ffmpeg=ffmpeg,
        source=source,
        plain_dir=plain,
        out_dir=out,
        renditions=ladder,
        fps=facts.video.fps,
        has_audio=facts.has_audio,
        duration_s=duration_s,
        segment_seconds=SEGMENT_SECONDS,
        pattern_file=pattern,
        thumbnails=Thumbnails(THUMB_EVERY_S, thumb_width, thumb_height),
    )


def run_floor(ffmpeg: str, source: Path, work: Path, ladder: list[Rendition], facts: ProbeResult) -> Measure:
    argv = floor_command(ffmpeg, source, work, ladder, facts)
    with Stopwatch() as watch:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    assert (work / "plain" / MASTER_PLAYLIST).is_file()
    return watch.measure


def run_job(ffmpeg: str, source: Path, out: Path) -> tuple[Measure, Measure, PackageResult]:
    """Probe, then package_hls (both variants of the encrypted ladder, thumbnails, poster, timeline, checks):
    measured apart."""
    with Stopwatch() as probing:
        facts = probe(source, max_duration_s=4 * 3600, max_bytes=60 * 1024**3)
        ladder = plan_ladder(facts.video.width, facts.video.height)
    with Stopwatch() as packaging:
        result = package_hls(
            source,
            out,
            renditions=ladder,
            key=new_content_key(),
            segment_seconds=SEGMENT_SECONDS,
            ffmpeg=ffmpeg,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=facts.has_audio,
            on_progress=lambda _percent, _stage: None,
            should_cancel=lambda: False,
        )
    return probing.measure, packaging.measure, result


def test_transcode_bench(tmp_path: Path) -> None:
    ffmpeg = ffmpeg_binary()
    source = make_source(ffmpeg, tmp_path / "source.mp4")
    ladder = plan_ladder(WIDTH, HEIGHT)
    assert [r.name for r in ladder] == ["1080p", "720p", "360p"]
    facts = probe(source, max_duration_s=4 * 3600, max_bytes=60 * 1024**3)
    runs = int(os.environ.get("BENCH_RUNS", "1"))
    floors, jobs, probes = [], [], []
    for run in range(runs):
        floors.append(run_floor(ffmpeg, source, tmp_path / f"floor-{run}", ladder, facts))
        probing, job, result = run_job(ffmpeg, source, tmp_path / f"job-{run}")
        probes.append(probing)
        jobs.append(job)
        assert [o.segment_count for o in result.renditions] == [SECONDS // SEGMENT_SECONDS] * 3

    def median(values: list[float]) -> float:
        return statistics.median(values)

    job_wall, job_cpu = median([m.wall_s for m in jobs]), median([m.cpu_s for m in jobs])
    job_self = median([m.self_cpu_s for m in jobs])
    floor_wall, floor_cpu = median([m.wall_s for m in floors]), median([m.cpu_s for m in floors])
    probe_wall, probe_cpu = median([m.wall_s for m in probes]), median([m.cpu_s for m in probes])
    size_mb = source.stat().st_size / 1e6
    print()
    print(f"BENCH transcode_realtime_factor {SECONDS / job_wall:.2f} x (goal >= 1.0)")
    print(f"BENCH transcode_overhead_vs_ffmpeg {job_cpu / floor_cpu:.3f} ratio (goal <= 1.15)")
    print(
        f"BENCH-INFO transcode source={SECONDS}s {WIDTH}x{HEIGHT}@{FPS} {size_mb:.1f}MB "
        f"ladder=1080p,720p,360p runs={runs} cores={os.cpu_count()} load1={os.getloadavg()[0]:.1f} "
        f"package_wall_s={job_wall:.2f} package_cpu_s={job_cpu:.2f} (python {job_self:.2f}) "
        f"floor_wall_s={floor_wall:.2f} floor_cpu_s={floor_cpu:.2f} "
        f"floor_realtime_factor={SECONDS / floor_wall:.2f} "
        f"probe_wall_s={probe_wall:.2f} probe_cpu_s={probe_cpu:.2f}"
    )
    assert job_cpu > 0 and floor_cpu > 0
