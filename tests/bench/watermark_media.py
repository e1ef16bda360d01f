"""Media for the watermark benchmark (test_watermark_bench.py): the generated film, its packaging and the
single-variant floor, each grant's copy as the doors serve it, the attacks, and the quality measures.

Everything runs the imageio-ffmpeg build (``ffmpeg_binary``), which has libx264, AAC and libvmaf.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from screening.forensics import mark
from screening.forensics.codeword import variant_for
from screening.forensics.reference import StoredReference, decrypt_segment
from screening.media import command
from screening.media.ladder import Rendition, plan_ladder
from screening.media.package import PackageResult, package_hls
from screening.media.playlist import read_media_playlist
from screening.media.probe import DEMUXER_WHITELIST, probe
from screening.storage import LocalMediaStore
from tests.bench.stopwatch import Measure, Stopwatch

WIDTH, HEIGHT, FPS = 1280, 720, 24
SEGMENT_SECONDS = 2  # package_hls's default: one A/B symbol per segment
ATTACK_PRESET = "veryfast"  # x264 preset of every attack's re-encode (the leaker's, not ours)
ATTACK_CRF = 23  # x264's default quality, for attacks that do not set a bitrate
EXCERPT_S = 90
QUIET = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)


# --- the films -------------------------------------------------------------------------------------


def _film_sources(seconds: float, other: bool) -> tuple[list[str], str]:
    """lavfi inputs and the filter graph of a 1280x720 film: tiles drifting over a full-frame background.

    This film: turning gradients behind a Mandelbrot zoom (fine texture), testsrc2 (moving shapes and a
    running clock), a flat grey panel (where a mark shows first) and Conway's life with mould (busy
    texture). The other film: Perlin noise behind a sierpinski carpet, radial gradients, a flat blue panel
    and cellular automaton rule 30: the same kinds of picture, none of the same images.

    The tiles drift on paths of incommensurate periods, so the whole frame changes within seconds as in
    a film (the tracer aligns an excerpt by matching coarse views of its frames against the cut's, and a
    frame whose coarse layout hardly changes for minutes matches many moments of the cut equally well),
    and no two moments of the film look alike.
    """
    if not other:
        background = f"gradients=size={WIDTH}x{HEIGHT}:rate={FPS}:speed=0.03:seed=7:n=5"
        tiles = [
            ("mandelbrot=size=640x360:maxiter=256:end_pts={frames}:end_scale=0.0005", 640, 360),
            ("testsrc2=size=480x270", 480, 270),
            ("color=c=0x6e6e6e:size=400x300", 400, 300),
            ("life=size=160x120:seed=11:mold=10:life_color=0xf0d080:death_color=0x202040"
             ":mold_color=0x603020,scale=320:240:flags=neighbor", 320, 240),
        ]  # fmt: skip
        tone = "sine=frequency=440:sample_rate=48000"
    else:
        background = (  # Perlin noise is slow to draw: drawn at a quarter of the size, it is as smooth
            f"perlin=size={WIDTH // 4}x{HEIGHT // 4}:rate={FPS}:octaves=4:persistence=0.6:xscale=3:yscale=3"
            f":tscale=0.3:random_mode=seed:seed=5,scale={WIDTH}:{HEIGHT}"
        )
        tiles = [
            ("sierpinski=size=640x360:seed=3:jump=50", 640, 360),
            ("gradients=size=480x270:speed=0.015:seed=99:n=6:type=radial", 480, 270),
            ("color=c=0x2a3f6e:size=400x300", 400, 300),
            ("cellauto=size=160x120:rule=30:seed=13,scale=320:240:flags=neighbor", 320, 240),
        ]
        tone = "sine=frequency=660:sample_rate=48000"
    frames = int(seconds * FPS)
    # (x frequency, x phase, y frequency, y phase) of each tile's drift, in radians per second
    paths = [(0.31, 0.0, 0.19, 1.3), (0.23, 2.0, 0.29, 0.0), (0.17, 4.0, 0.13, 0.5), (0.27, 1.0, 0.35, 2.0)]
    inputs = ["-f", "lavfi", "-t", f"{seconds}", "-i", background]
    for source, _, _ in tiles:
        spec = source.format(frames=frames)
        name, _, options = spec.partition("=")
        inputs += ["-f", "lavfi", "-t", f"{seconds}", "-i", f"{name}=rate={FPS}:{options}"]
    inputs += ["-f", "lavfi", "-t", f"{seconds}", "-i", tone]
    parts = [f"[{i}:v]format=yuv420p,setsar=1[t{i}]" for i in range(len(tiles) + 1)]
    below = "t0"
    for i, ((_, width, height), (fx, px, fy, py)) in enumerate(zip(tiles, paths, strict=True), start=1):
        x = f"{WIDTH - width}*(0.5+0.5*sin({fx}*t+{px}))"
        y = f"{HEIGHT - height}*(0.5+0.5*sin({fy}*t+{py}))"
        parts.append(f"[{below}][t{i}]overlay=x='{x}':y='{y}':eval=frame:shortest=1[o{i}]")
        below = f"o{i}"
    parts[-1] = parts[-1].rsplit("[", 1)[0] + "[v]"
    return inputs, ";".join(parts)


def make_film(ffmpeg: str, path: Path, seconds: float, *, other: bool = False) -> Path:
    """A generated film in H.264 (x264 CRF 16: close to lossless at this size) + AAC tone, in MP4."""
    inputs, graph = _film_sources(seconds, other)
    tone_index = 5  # the background and four tiles come first
    argv = [ffmpeg, *QUIET, *inputs, "-filter_complex", graph, "-map", "[v]", "-map", f"{tone_index}:a"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-t", f"{seconds}", str(path)]
    run(argv)
    return path


# --- packaging, and the floor it is compared with --------------------------------------------------


@dataclass(frozen=True)
class Packaged:
    """A cut packaged by package_hls into ``root/objects``: a LocalMediaStore rooted at ``root`` holds it
    under the empty prefix."""

    root: Path
    key: bytes
    ladder: list[Rendition]
    result: PackageResult

    @property
    def out_dir(self) -> Path:
        return self.root / "objects"

    @property
    def segment_count(self) -> int:
        return self.result.renditions[0].segment_count

    @property
    def top(self) -> Rendition:
        return self.ladder[0]

    def reference(self) -> StoredReference:
        """A fresh reference (nothing cached), as a trace job would open it."""
        return StoredReference(
            store=LocalMediaStore(self.root),
            media_prefix="",
            content_key=self.key,
            renditions=[{"name": r.name} for r in self.ladder],
            segment_count=self.segment_count,
            duration_s=self.result.duration_s,
        )

    def grant_copy(self, grant: uuid.UUID, path: Path) -> Path:
        """What saving ``grant``'s stream of the top rendition through the doors gives: for every segment
        the codeword's variant, decrypted with its key, concatenated (an MPEG-TS stream)."""
        secret = mark.codeword_secret(self.key)
        name = self.top.name
        with path.open("wb") as handle:
            for index in range(self.segment_count):
                variant = variant_for(secret, grant, index)
                sealed = (self.out_dir / name / mark.object_name(self.key, name, index, variant)).read_bytes()
                handle.write(decrypt_segment(sealed, mark.segment_key(self.key, index, variant), index))
        return path


def package(ffmpeg: str, source: Path, root: Path, key: bytes) -> tuple[Packaged, Measure]:
    """package_hls with its default 2-s segments on the ladder plan_ladder gives the source, measured."""
    facts = probe(source, max_duration_s=4 * 3600, max_bytes=60 * 1024**3)
    ladder = plan_ladder(facts.video.width, facts.video.height)
    with Stopwatch() as watch:
        result = package_hls(
            source,
            root / "objects",
            renditions=ladder,
            key=key,
            segment_seconds=SEGMENT_SECONDS,
            ffmpeg=ffmpeg,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=facts.has_audio,
        )
    return Packaged(root, key, ladder, result), watch.measure


def _video_rate(rendition: Rendition, suffix: str) -> list[str]:
    return [
        f"-b:v{suffix}", f"{rendition.video_bitrate_k}k",
        f"-maxrate:v{suffix}", f"{rendition.maxrate_k}k",
        f"-bufsize:v{suffix}", f"{rendition.bufsize_k}k",
    ]  # fmt: skip


def floor_command(ffmpeg: str, source: Path, out: Path, ladder: list[Rendition], fps: float) -> list[str]:
    """The single-variant floor: the same ladder as ``command.ladder_command`` makes, by one ffmpeg run
    with the same input options, split and scale, x264 (preset, profile, rate control, GOP, closed GOPs,
    no scene cuts), AAC and HLS settings, but no mark: no pattern input, no blends, variant A's extra
    keyframe at each window's end dropped (a keyframe at each segment start only), no variant B output.
    Also none of what package_hls adds after ffmpeg (splicing, padding, encryption, timeline, poster)
    nor its thumbnails branch: the ratio against it is an upper bound on the mark's price."""
    gop = str(command.gop_frames(fps, SEGMENT_SECONDS))
    count = len(ladder)
    graph = f"[0:v]split={count}" + "".join(f"[v{i}]" for i in range(count))
    graph += "".join(f";[v{i}]scale={r.width}:{r.height},setsar=1[o{i}]" for i, r in enumerate(ladder))
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    argv += ["-format_whitelist", DEMUXER_WHITELIST, "-protocol_whitelist", "file", "-i", f"file:{source}"]
    argv += ["-filter_complex", graph]
    for i in range(count):
        argv += ["-map", f"[o{i}]", "-map", "0:a:0"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1"]
    argv += ["-c:v", "libx264", "-preset", command.X264_PRESET, "-profile:v", command.X264_PROFILE]
    argv += ["-pix_fmt", "yuv420p"]
    for i, rendition in enumerate(ladder):
        argv += [*_video_rate(rendition, f":{i}"), f"-b:a:{i}", f"{rendition.audio_bitrate_k}k"]
    argv += [
        "-g:v", gop,
        "-keyint_min:v", gop,
        "-sc_threshold:v", "0",
        "-flags:v", "+cgop",
        "-force_key_frames:v", mark.window_keyframe_expr(SEGMENT_SECONDS),
        "-c:a", "aac",
        "-ac", str(command.AUDIO_CHANNELS),
        "-ar", str(command.AUDIO_SAMPLE_RATE),
        "-f", "hls",
        "-hls_time", str(SEGMENT_SECONDS),
        "-hls_playlist_type", "vod",
        "-hls_segment_type", "mpegts",
        "-hls_flags", "independent_segments",
        "-master_pl_name", command.MASTER_PLAYLIST,
        "-var_stream_map", " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(ladder)),
        "-hls_segment_filename", str(out / "%v" / command.SEGMENT_PATTERN),
        str(out / "%v" / command.MEDIA_PLAYLIST),
    ]  # fmt: skip
    return argv


def floor_drift(floor: list[str], packaging: list[str]) -> list[str]:
    """The floor's options (flag and value) that package_hls's command does not have, keyframes aside:
    empty unless command.py changed and the floor was left behind."""
    pairs = set(zip(packaging, packaging[1:], strict=False))
    skip = {"-i", "-filter_complex", "-map", "-force_key_frames:v", "-hls_segment_filename", "-loglevel"}
    return [
        f"{flag} {value}"
        for flag, value in zip(floor, floor[1:], strict=False)
        if flag.startswith("-")
        and flag not in skip
        and not value.startswith("-")
        and (flag, value) not in pairs
    ]


def run_floor(ffmpeg: str, source: Path, out: Path, ladder: list[Rendition], fps: float) -> Measure:
    for rendition in ladder:
        (out / rendition.name).mkdir(parents=True)
    argv = floor_command(ffmpeg, source, out, ladder, fps)
    with Stopwatch() as watch:
        run(argv)
    return watch.measure


def concat_rendition(folder: Path, path: Path) -> Path:
    """One plain HLS rendition (``folder/index.m3u8`` and its segments) as a single MPEG-TS file."""
    playlist = read_media_playlist(folder / command.MEDIA_PLAYLIST)
    with path.open("wb") as handle:
        for segment in playlist.segments:
            handle.write((folder / segment.uri).read_bytes())
    return path


# --- attacks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    filters: tuple[str, ...] = ()
    bitrate_k: int | None = None  # None: CRF ATTACK_CRF
    excerpt: bool = False  # EXCERPT_S seconds from the middle

    def command(self, ffmpeg: str, copy: Path, out: Path, duration_s: float) -> list[str]:
        argv = [ffmpeg, *QUIET]
        if self.excerpt:
            argv += ["-ss", f"{max(0.0, duration_s / 2 - EXCERPT_S / 2):.3f}", "-t", str(EXCERPT_S)]
        argv += ["-i", str(copy), "-map", "0:v:0", "-map", "0:a:0?"]
        if self.filters:
            argv += ["-vf", ",".join(self.filters)]
        argv += ["-c:v", "libx264", "-preset", ATTACK_PRESET, "-pix_fmt", "yuv420p"]
        if self.bitrate_k is None:
            argv += ["-crf", str(ATTACK_CRF)]
        else:
            rate = self.bitrate_k
            argv += [
                "-b:v",
                f"{rate}k",
                "-maxrate",
                f"{round(rate * 1.07)}k",
                "-bufsize",
                f"{round(rate * 1.5)}k",
            ]
        argv += ["-c:a", "copy", str(out)]
        return argv


def attacks(top: Rendition) -> list[Attack]:
    """The issue's seven attacks on a copy of the top rendition (1280x720 at 24 fps)."""
    quarter = top.video_bitrate_k // 4  # 2800k -> 700k
    crop = "crop=1228:692:38:7"  # 4 % off each dimension, off-centre, then rescaled
    rescale = f"scale={top.width}:{top.height}"
    tone = "eq=brightness=0.06:contrast=1.15:gamma=1.2"
    return [
        Attack("quarter_bitrate", bitrate_k=quarter),
        Attack("downscale_360p", ("scale=640:360",)),
        Attack("crop_4pct_rescale", (crop, rescale)),
        Attack("brightness_contrast_gamma", (tone,)),
        Attack("excerpt_90s", excerpt=True),
        Attack("fps_24_to_25", ("fps=25",)),
        Attack("combined", (crop, rescale, tone, "fps=25", "scale=640:360"), bitrate_k=quarter, excerpt=True),
    ]


def average_copies(ffmpeg: str, first: Path, second: Path, out: Path) -> Path:
    """Two viewers' copies averaged frame by frame (both are the same cut on the same clock), re-encoded."""
    argv = [ffmpeg, *QUIET, "-i", str(first), "-i", str(second)]
    argv += ["-filter_complex", "[0:v][1:v]blend=all_mode=average[v]", "-map", "[v]", "-map", "0:a:0?"]
    argv += ["-c:v", "libx264", "-preset", ATTACK_PRESET, "-crf", "20", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "copy", str(out)]
    run(argv)
    return out


def duration_of(path: Path) -> float:
    return probe(path, max_duration_s=4 * 3600, max_bytes=60 * 1024**3).duration_s


# --- picture quality -------------------------------------------------------------------------------


def _filter_path(path: Path) -> str:
    text = str(path)
    if any(c in text for c in ":',;[]\\ "):
        raise ValueError(f"{text!r} cannot be written into a filter graph as is.")
    return text


def _luma_psnr(stats: Path) -> tuple[float, float, int]:
    """(PSNR of the mean luma MSE, the worst frame's luma PSNR, frames) from a psnr filter's stats file."""
    mse = [float(field.split(":")[1]) for line in stats.read_text().splitlines()
           for field in line.split() if field.startswith("mse_y:")]  # fmt: skip
    if not mse:
        raise AssertionError(f"{stats} holds no frame.")

    def psnr(value: float) -> float:
        return math.inf if value <= 0 else 10 * math.log10(255**2 / value)

    return psnr(statistics.fmean(mse)), psnr(max(mse)), len(mse)


@dataclass(frozen=True)
class MarkPsnr:
    window_db: float  # variant B's window frames against the same frames unmarked (mean luma MSE)
    window_worst_db: float
    window_frames: int
    all_db: float  # variant A, every frame, against the unmarked frames
    all_frames: int


def mark_psnr(ffmpeg: str, source: Path, key: bytes, seconds: float, work: Path) -> MarkPsnr:
    """The mark's own distortion, before any encoding: package_hls's mark filters (``mark.pattern_split``,
    ``mark.mark_filters``, the cut's pattern stream) on the first ``seconds`` of the source at 720p, and
    ffmpeg's psnr filter of the marked pictures against the unmarked ones."""
    pattern = work / "pattern.yuv"
    mark.write_pattern_stream(pattern, mark.mark_secret(key), math.ceil(seconds / SEGMENT_SECONDS) + 2)
    stats_b, stats_a = work / "psnr_b.log", work / "psnr_a.log"
    parts = [
        f"[0:v]scale={WIDTH}:{HEIGHT},setsar=1,split=3[s0][ref_all][ref_win_in]",
        mark.pattern_split("1:v", 1),
        *mark.mark_filters(
            pattern="pat0",
            branch="s0",
            width=WIDTH,
            height=HEIGHT,
            segment_seconds=SEGMENT_SECONDS,
            out_a="marked_a",
            out_b="marked_b",
        ),
        f"[ref_win_in]select='{mark.in_window_expr(SEGMENT_SECONDS)}'[ref_win]",
        f"[marked_b][ref_win]psnr=stats_file={_filter_path(stats_b)}[out_b]",
        f"[marked_a][ref_all]psnr=stats_file={_filter_path(stats_a)}[out_a]",
    ]
    argv = [ffmpeg, *QUIET, "-t", f"{seconds}", "-i", str(source)]
    argv += mark.pattern_input(pattern, SEGMENT_SECONDS)
    argv += ["-filter_complex", ";".join(parts)]
    argv += ["-map", "[out_b]", "-f", "null", "-", "-map", "[out_a]", "-f", "null", "-"]
    run(argv)
    window_db, worst_db, window_frames = _luma_psnr(stats_b)
    all_db, _, all_frames = _luma_psnr(stats_a)
    return MarkPsnr(window_db, worst_db, window_frames, all_db, all_frames)


def vmaf(ffmpeg: str, distorted: Path, reference: Path, seconds: float, log: Path, subsample: int) -> float:
    """Mean VMAF (model vmaf_v0.6.1) of ``distorted`` against ``reference`` over their first ``seconds``,
    frame for frame from each one's first frame, every ``subsample``-th frame scored."""
    graph = (
        f"[0:v]setpts=PTS-STARTPTS,format=yuv420p[d];[1:v]setpts=PTS-STARTPTS,format=yuv420p[r];"
        f"[d][r]libvmaf=model=version=vmaf_v0.6.1:n_subsample={subsample}:n_threads=2"
        f":log_fmt=json:log_path={_filter_path(log)}"
    )
    argv = [
        ffmpeg,
        *QUIET,
        "-t",
        f"{seconds}",
        "-i",
        str(distorted),
        "-t",
        f"{seconds}",
        "-i",
        str(reference),
    ]
    run([*argv, "-filter_complex", graph, "-f", "null", "-"])
    return float(json.loads(log.read_text())["pooled_metrics"]["vmaf"]["mean"])
