"""Transcoding benchmark: our whole packaging job against one plain ffmpeg command making the same ladder.

Source: 30 s of 1920x1080 testsrc2 at 25 fps with a 440 Hz stereo tone, H.264 (x264 superfast, CRF 20,
about 25 Mbit/s, roughly 95 MB) + AAC in MP4, generated here; the ladder is 1080p, 720p and 360p.

- ``transcode_realtime_factor``: seconds of video per wall second of ``package_hls`` (the encrypted
  ladder, thumbnails, poster and output checks). Goal >= 1.0: a screener is ready in its own length.
- ``transcode_overhead_vs_ffmpeg``: ``package_hls``'s CPU seconds (ffmpeg children plus this process)
  over the floor's: one plain ffmpeg command, same filters and x264/AAC settings, same HLS ladder, no
  encryption, no thumbnails, no poster, no Python around it. Goal <= 1.15.

The probe runs before packaging and is reported on the BENCH-INFO line (its cost is one GOP of decoding
at each end, constant whatever the film's length).

CPU time is ``getrusage(RUSAGE_CHILDREN)`` (children that were waited for) plus ``RUSAGE_SELF`` for the
job's own Python, as deltas around each run. Machines are shared and noisy, hence a ratio against a
floor measured in the same run. BENCH_RUNS=n (default 1) alternates floor and job n times and reports
medians. Benchmarks assert that the work was done, never how fast.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from screening.media.binary import ffmpeg_binary
from screening.media.keys import new_content_key
from screening.media.ladder import Rendition, plan_ladder
from screening.media.package import PackageResult, package_hls
from screening.media.probe import probe

SECONDS = 30
WIDTH, HEIGHT, FPS = 1920, 1080, 25
SEGMENT_SECONDS = 6


@dataclass(frozen=True)
class Measure:
    wall_s: float
    children_cpu_s: float
    self_cpu_s: float

    @property
    def cpu_s(self) -> float:
        return self.children_cpu_s + self.self_cpu_s


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.wall, self.children, self.own = (
            time.perf_counter(),
            cpu(resource.RUSAGE_CHILDREN),
            cpu(resource.RUSAGE_SELF),
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.measure = Measure(
            wall_s=time.perf_counter() - self.wall,
            children_cpu_s=cpu(resource.RUSAGE_CHILDREN) - self.children,
            self_cpu_s=cpu(resource.RUSAGE_SELF) - self.own,
        )


def make_source(ffmpeg: str, path: Path) -> Path:
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SECONDS}"]
    argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"]
    argv += ["-c:v", "libx264", "-preset", "superfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "192k", "-ac", "2", str(path)]
    subprocess.run(argv, check=True)
    return path


def floor_command(ffmpeg: str, source: Path, out: Path, ladder: list[Rendition]) -> list[str]:
    """The floor, spelled out: what a person would type to make this ladder with ffmpeg alone."""
    gop = str(FPS * SEGMENT_SECONDS)
    graph = f"[0:v]split={len(ladder)}" + "".join(f"[v{i}]" for i in range(len(ladder)))
    graph += "".join(f";[v{i}]scale={r.width}:{r.height},setsar=1[o{i}]" for i, r in enumerate(ladder))
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(source)]
    argv += ["-filter_complex", graph]
    for i in range(len(ladder)):
        argv += ["-map", f"[o{i}]", "-map", "0:a:0"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"]
    for i, r in enumerate(ladder):
        argv += [f"-b:v:{i}", f"{r.video_bitrate_k}k", f"-maxrate:v:{i}", f"{r.maxrate_k}k"]
        argv += [f"-bufsize:v:{i}", f"{r.bufsize_k}k", f"-b:a:{i}", f"{r.audio_bitrate_k}k"]
    argv += ["-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-flags:v", "+cgop"]
    argv += ["-force_key_frames:v", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]
    argv += ["-c:a", "aac", "-ac", "2", "-ar", "48000"]
    argv += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"]
    argv += ["-hls_segment_type", "mpegts", "-hls_flags", "independent_segments"]
    argv += ["-master_pl_name", "master.m3u8"]
    argv += ["-var_stream_map", " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(ladder))]
    argv += ["-hls_segment_filename", str(out / "%v" / "seg_%05d.ts"), str(out / "%v" / "index.m3u8")]
    return argv


def run_floor(ffmpeg: str, source: Path, out: Path, ladder: list[Rendition]) -> Measure:
    for rendition in ladder:
        (out / rendition.name).mkdir(parents=True)
    with Stopwatch() as watch:
        subprocess.run(floor_command(ffmpeg, source, out, ladder), check=True)
    assert (out / "master.m3u8").is_file()
    return watch.measure


def run_job(ffmpeg: str, source: Path, out: Path) -> tuple[Measure, Measure, PackageResult]:
    """Probe, then package_hls (the encrypted ladder, thumbnails, poster, checks): measured apart."""
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
    runs = int(os.environ.get("BENCH_RUNS", "1"))
    floors, jobs, probes = [], [], []
    for run in range(runs):
        floors.append(run_floor(ffmpeg, source, tmp_path / f"floor-{run}", ladder))
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
