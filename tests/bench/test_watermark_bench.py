"""Forensic watermark benchmark: does a leaked, attacked copy name its viewing, and only it? At what cost?

``make bench-watermark`` (also part of ``make bench``). What it runs, in order (docs/forensics.md):

1. **The film**: 180 s (BENCH_WATERMARK_SECONDS) of generated 1280x720 video at 24 fps with a tone
   (``watermark_media.make_film``: a Mandelbrot zoom, testsrc2 with its running clock, a flat grey panel
   and Conway's life drifting over turning gradients; nothing repeats and the frame's layout changes
   within seconds, as the tracer aligns excerpts by content), and a second, different generated film of
   120 s (not this film).
2. **Packaging**: the single-variant floor (``watermark_media.floor_command``: the same ladder, 720p and
   360p, by one ffmpeg run with package_hls's settings and no mark), then the real ``package_hls`` with a
   fresh content key and 2-s segments. CPU time of each, ffmpeg and Python (``tests/bench/stopwatch.py``).
3. **The mark's distortion**: package_hls's mark filters on the first 60 s of the source at 720p, before
   any encoding; ffmpeg's psnr of variant B's window frames (and of variant A's every frame) against the
   unmarked frames. **VMAF** (vmaf_v0.6.1, every 4th frame, first 60 s) of the floor's decoded 720p
   rendition and of grant 0's decoded stream (A and B mixed), both against the source.
4. **20 grants** (random UUIDs). Grant ``j``'s copy is what saving its stream of the 720p rendition
   through the doors gives: its codeword's variant of every segment, decrypted, concatenated (MPEG-TS).
   Grant ``j`` suffers attack ``j mod 7`` of the seven below (so each attack hits two or three grants),
   and grants 0, 1 and 2 suffer ``combined`` as well: 23 attacked copies. Every attack is one ffmpeg
   re-encode with libx264 (preset veryfast, CRF 23 unless a bitrate is given, audio copied):
   ``quarter_bitrate`` (700 kbit/s, a quarter of the rendition's 2800), ``downscale_360p`` (640x360),
   ``crop_4pct_rescale`` (1228x692 cut off-centre, scaled back to 1280x720), ``brightness_contrast_gamma``
   (eq brightness 0.06, contrast 1.15, gamma 1.2), ``excerpt_90s`` (90 s from the middle),
   ``fps_24_to_25`` (fps=25), and ``combined`` (the excerpt, then crop and rescale, eq, fps=25 and 640x360,
   at 700 kbit/s).
5. **Unmarked copies**: the source itself; the source under ``quarter_bitrate``,
   ``brightness_contrast_gamma`` and ``combined``; the other film.
6. **Collusion** (stretch): grants 0 and 1's copies averaged frame by frame (blend average), re-encoded.

Every copy is traced with ``detect.trace`` against the packaged cut (a fresh ``StoredReference`` each
time, as a trace job opens it) and scored with ``codeword.score`` over the 20 grants' codewords at the
threshold of 1e-6. Prints:

  BENCH watermark_trace_accuracy <attacked copies that name exactly their grant> share (goal >= 1.00)
  BENCH watermark_false_accusations <grants named that did not make the copy, over every trace> (goal 0)
  BENCH watermark_psnr_db <luma PSNR of the marked window frames> dB (goal >= 45)
  BENCH watermark_vmaf_drop <VMAF unmarked encode - VMAF grant stream> points (goal <= 1.0)
  BENCH watermark_packaging_overhead <package_hls CPU s / floor CPU s> ratio (goal <= 1.5)
  BENCH trace_speed_vs_realtime <suspect seconds / trace wall seconds, over all traces> x (goal >= 2)

and BENCH-INFO lines: one per traced copy (status, windows read, share confident, share agreeing with
the grant's codeword among those, mean |z|, who was named, the p-value, time), one per attack, the
collusion's outcome, and the absolute figures (``run_cpu_s``: about 1,900 CPU seconds, some 16 minutes on
2 idle cores). Benchmarks assert that the work was done, never how well or how fast.
"""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screening.forensics import codeword, detect, mark
from screening.media.binary import ffmpeg_binary
from screening.media.command import ladder_command
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder
from screening.media.probe import probe
from tests.bench import watermark_media as media
from tests.bench.stopwatch import Stopwatch

SECONDS = float(os.environ.get("BENCH_WATERMARK_SECONDS", "180"))
OTHER_SECONDS = min(SECONDS, 120.0)
GRANTS = 20
EXTRA_COMBINED = 3  # grants 0..2 suffer "combined" on top of their own attack
COLLUDERS = (0, 1)
UNMARKED_ATTACKS = ("quarter_bitrate", "brightness_contrast_gamma", "combined")
QUALITY_SECONDS = min(SECONDS, 60.0)
VMAF_SUBSAMPLE = 4
THRESHOLD = 1e-6


@dataclass(frozen=True)
class Traced:
    label: str  # the attack, or what the unmarked copy is
    kind: str  # "attacked", "unmarked" or "collusion"
    sources: frozenset[int]  # grants whose copies made it (empty: unmarked)
    evidence: detect.Evidence
    verdict: codeword.Verdict[int]
    wall_s: float
    confident_share: float  # decisions with |z| >= CONFIDENT_Z, among those read
    correct_share: float  # confident decisions agreeing with the (first) source's codeword
    mean_abs_z: float

    @property
    def named(self) -> set[int]:
        return {grant.key for grant in self.verdict.named}

    @property
    def accused(self) -> set[int]:
        """Grants named that did not make this copy."""
        return self.named - self.sources

    @property
    def speed(self) -> float:
        return self.evidence.suspect_s / self.wall_s if self.wall_s > 0 else 0.0


def trace(
    path: Path,
    packaged: media.Packaged,
    codewords: dict[int, np.ndarray],
    *,
    label: str,
    kind: str,
    sources: Collection[int] = (),
) -> Traced:
    ffmpeg = ffmpeg_binary()
    with Stopwatch() as watch:
        evidence = detect.trace(path, packaged.reference(), ffmpeg=ffmpeg)
    wall_s = watch.measure.wall_s
    verdict = codeword.score(evidence.decisions, codewords, threshold=THRESHOLD)
    decisions = evidence.decisions
    confident = [d for d in decisions if abs(d.strength) >= codeword.CONFIDENT_Z]
    correct = 0.0
    if sources and confident:
        bits = codewords[min(sources)]
        correct = sum((d.strength > 0) == bool(bits[d.index]) for d in confident) / len(confident)
    result = Traced(
        label=label,
        kind=kind,
        sources=frozenset(sources),
        evidence=evidence,
        verdict=verdict,
        wall_s=wall_s,
        confident_share=len(confident) / len(decisions) if decisions else 0.0,
        correct_share=correct,
        mean_abs_z=float(np.mean([abs(d.strength) for d in decisions])) if decisions else 0.0,
    )
    best = verdict.ranking[0] if verdict.ranking else None
    leader = f"g{best.key}:{best.agreements}/{best.n}:log10_p={best.log10_p:.1f}" if best else "-"
    print(
        f"BENCH-INFO watermark_copy kind={kind} label={label} "
        f"grants={_names(sorted(result.sources))} status={evidence.status} "
        f"suspect_s={evidence.suspect_s:.1f} "
        f"windows={len(decisions)} confident={result.confident_share:.2f} correct={result.correct_share:.2f} "
        f"mean_abs_z={result.mean_abs_z:.1f} named={_names(sorted(result.named))} reason={verdict.reason} "
        f"best={leader} "
        f"trace_s={wall_s:.1f} trace_cpu_s={watch.measure.cpu_s:.1f} speed={result.speed:.1f}x",
        flush=True,
    )
    return result


def _names(grants: Sequence[int]) -> str:
    return "[" + ",".join(f"g{g}" for g in grants) + "]"


def plan(attacks: list[media.Attack]) -> dict[int, list[media.Attack]]:
    """Grant j suffers attack j mod 7; grants 0..EXTRA_COMBINED-1 suffer ``combined`` as well."""
    combined = next(a for a in attacks if a.name == "combined")
    schedule = {j: [attacks[j % len(attacks)]] for j in range(GRANTS)}
    for j in range(EXTRA_COMBINED):
        if combined not in schedule[j]:
            schedule[j].append(combined)
    return schedule


def test_watermark_bench(tmp_path: Path) -> None:
    with Stopwatch() as whole:
        ffmpeg = ffmpeg_binary()
        source = media.make_film(ffmpeg, tmp_path / "film.mp4", SECONDS)
        other = media.make_film(ffmpeg, tmp_path / "other.mp4", OTHER_SECONDS, other=True)
        facts = probe(source, max_duration_s=4 * 3600, max_bytes=60 * 1024**3)
        made_s = whole.elapsed().wall_s

        # Packaging: the single-variant floor, then package_hls.
        fps = facts.video.fps
        ladder = plan_ladder(facts.video.width, facts.video.height)
        assert [r.name for r in ladder] == ["720p", "360p"]
        floor = media.run_floor(ffmpeg, source, tmp_path / "floor", ladder, fps)
        key = new_content_key()
        packaged, packaging = media.package(ffmpeg, source, tmp_path / "store", key)
        assert packaged.ladder == ladder
        drift = media.floor_drift(
            media.floor_command(ffmpeg, source, tmp_path / "floor", ladder, fps),
            ladder_command(
                ffmpeg=ffmpeg,
                source=source,
                plain_dir=tmp_path / "unused",
                out_dir=tmp_path / "unused",
                renditions=ladder,
                fps=fps,
                has_audio=True,
                duration_s=facts.duration_s,
                segment_seconds=media.SEGMENT_SECONDS,
                pattern_file=tmp_path / "unused.yuv",
                thumbnails=None,
            ),
        )
        assert not drift, f"The floor's settings differ from package_hls's: {drift}"
        segments = packaged.segment_count
        assert segments >= SECONDS // media.SEGMENT_SECONDS

        # The mark's distortion before encoding, and the quality cost after it.
        (tmp_path / "psnr").mkdir()
        psnr = media.mark_psnr(ffmpeg, source, key, QUALITY_SECONDS, tmp_path / "psnr")
        grants = [uuid.uuid4() for _ in range(GRANTS)]
        secret = mark.codeword_secret(key)
        codewords = {j: codeword.codeword(secret, grant, segments) for j, grant in enumerate(grants)}
        unmarked_encode = media.concat_rendition(
            tmp_path / "floor" / ladder[0].name, tmp_path / "floor_top.ts"
        )
        vmaf_unmarked = media.vmaf(
            ffmpeg, unmarked_encode, source, QUALITY_SECONDS, tmp_path / "vmaf_floor.json", VMAF_SUBSAMPLE
        )
        first_copy = packaged.grant_copy(grants[0], tmp_path / "copy_vmaf.ts")
        vmaf_marked = media.vmaf(
            ffmpeg, first_copy, source, QUALITY_SECONDS, tmp_path / "vmaf_grant.json", VMAF_SUBSAMPLE
        )
        first_copy.unlink()
        measured_s = whole.elapsed().wall_s

        # Every grant's copy, attacked and traced.
        attacks = media.attacks(packaged.top)
        by_name = {attack.name: attack for attack in attacks}
        traced: list[Traced] = []
        for j, suffered in plan(attacks).items():
            copy = packaged.grant_copy(grants[j], tmp_path / f"copy_{j}.ts")
            for attack in suffered:
                attacked = tmp_path / f"g{j}_{attack.name}.mp4"
                media.run(attack.command(ffmpeg, copy, attacked, packaged.result.duration_s))
                traced.append(
                    trace(attacked, packaged, codewords, label=attack.name, kind="attacked", sources={j})
                )
                attacked.unlink()
            copy.unlink()

        # Unmarked copies: the source, the source attacked, another film.
        traced.append(trace(source, packaged, codewords, label="source", kind="unmarked"))
        for name in UNMARKED_ATTACKS:
            attacked = tmp_path / f"source_{name}.mp4"
            media.run(by_name[name].command(ffmpeg, source, attacked, facts.duration_s))
            traced.append(trace(attacked, packaged, codewords, label=f"source_{name}", kind="unmarked"))
            attacked.unlink()
        traced.append(trace(other, packaged, codewords, label="other_film", kind="unmarked"))

        # Two colluders average their copies.
        first, second = (packaged.grant_copy(grants[j], tmp_path / f"colluder_{j}.ts") for j in COLLUDERS)
        averaged = media.average_copies(ffmpeg, first, second, tmp_path / "averaged.mp4")
        collusion = trace(
            averaged, packaged, codewords, label="average_of_two", kind="collusion", sources=COLLUDERS
        )
        traced.append(collusion)
    wall_s = whole.measure.wall_s

    attacked_copies = [t for t in traced if t.kind == "attacked"]
    right = sum(t.named == set(t.sources) for t in attacked_copies)
    accusations = sum(len(t.accused) for t in traced)
    speeds = [t.speed for t in traced]
    overall_speed = sum(t.evidence.suspect_s for t in traced) / sum(t.wall_s for t in traced)
    print()
    for attack in attacks:
        rows = [t for t in attacked_copies if t.label == attack.name]
        print(
            f"BENCH-INFO watermark_attack name={attack.name} copies={len(rows)} "
            f"traced_right={sum(t.named == set(t.sources) for t in rows)} "
            f"confident={statistics.fmean(t.confident_share for t in rows):.2f} "
            f"correct={statistics.fmean(t.correct_share for t in rows):.2f} "
            f"mean_abs_z={statistics.fmean(t.mean_abs_z for t in rows):.1f} "
            f"accused={sum(len(t.accused) for t in rows)}"
        )
    unmarked = [t for t in traced if t.kind == "unmarked"]
    print(
        "BENCH-INFO watermark_unmarked "
        + " ".join(f"{t.label}={t.evidence.status}/{t.verdict.reason}/named={len(t.named)}" for t in unmarked)
    )
    print(
        f"BENCH-INFO watermark_collusion colluders={_names(COLLUDERS)} "
        f"named={_names(sorted(collusion.named))} "
        f"innocents={len(collusion.accused)} windows={len(collusion.evidence.decisions)} "
        f"confident={collusion.confident_share:.2f} reason={collusion.verdict.reason}"
    )
    print(f"BENCH watermark_trace_accuracy {right / len(attacked_copies):.2f} share (goal >= 1.00)")
    print(f"BENCH watermark_false_accusations {accusations} grants (goal 0)")
    print(f"BENCH watermark_psnr_db {psnr.window_db:.2f} dB (goal >= 45)")
    print(f"BENCH watermark_vmaf_drop {vmaf_unmarked - vmaf_marked:.2f} points (goal <= 1.0)")
    print(f"BENCH watermark_packaging_overhead {packaging.cpu_s / floor.cpu_s:.3f} ratio (goal <= 1.5)")
    print(f"BENCH trace_speed_vs_realtime {overall_speed:.2f} x (goal >= 2)")
    print(
        f"BENCH-INFO watermark film={SECONDS:.0f}s {media.WIDTH}x{media.HEIGHT}@{media.FPS} "
        f"segments={segments} "
        f"grants={GRANTS} traces={len(traced)} attacked={len(attacked_copies)} right={right} "
        f"psnr_window_worst_db={psnr.window_worst_db:.2f} psnr_window_frames={psnr.window_frames} "
        f"psnr_all_frames_db={psnr.all_db:.2f} over={psnr.all_frames} "
        f"vmaf_unmarked={vmaf_unmarked:.2f} vmaf_grant={vmaf_marked:.2f} "
        f"package_cpu_s={packaging.cpu_s:.1f} (python {packaging.self_cpu_s:.1f}) "
        f"package_wall_s={packaging.wall_s:.1f} floor_cpu_s={floor.cpu_s:.1f} "
        f"floor_wall_s={floor.wall_s:.1f} "
        f"trace_speed_median={statistics.median(speeds):.2f}x trace_speed_slowest={min(speeds):.2f}x "
        f"cores={os.cpu_count()} load1={os.getloadavg()[0]:.1f} "
        f"films_s={made_s:.0f} packaging_and_quality_s={measured_s - made_s:.0f} run_s={wall_s:.0f} "
        f"run_cpu_s={whole.measure.cpu_s:.0f}"
    )
    # The work was done: every planned copy traced, the quality and cost measured.
    assert len(attacked_copies) == GRANTS + EXTRA_COMBINED
    assert len(unmarked) == 2 + len(UNMARKED_ATTACKS)
    assert all(t.evidence.suspect_s > 0 for t in traced)
    assert psnr.window_frames > 0 and vmaf_unmarked > 0 and vmaf_marked > 0
    assert packaging.cpu_s > 0 and floor.cpu_s > 0
