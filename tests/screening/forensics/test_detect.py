"""The detector reads a grant's A/B sequence back from leaked copies, attacked or not, and says nothing
confident about an unmarked one (media: ``detect_media``; made once per session, about a minute)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from screening.forensics import detect, mark
from screening.media.binary import ffmpeg_binary
from tests.screening.forensics import detect_media as media


@dataclass
class World:
    ffmpeg: str
    cut: media.Cut
    reference: media.FileReference
    choices: list[int]
    copies: dict[str, Path]
    progress: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    traced: dict[str, detect.Evidence] = field(default_factory=dict)

    def trace(self, name: str) -> detect.Evidence:
        if name not in self.traced:
            calls: list[tuple[float, str]] = []
            self.progress[name] = calls
            self.traced[name] = detect.trace(
                self.copies[name],
                self.reference,
                ffmpeg=self.ffmpeg,
                on_progress=lambda p, s: calls.append((p, s)),
            )
        return self.traced[name]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    # DETECT_MEDIA_DIR keeps the media between runs while working on the detector.
    kept = os.environ.get("DETECT_MEDIA_DIR")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("detect")
    ffmpeg = ffmpeg_binary()
    cut = media.make_cut(ffmpeg, folder)
    choices = media.choices_for(cut.segment_count)
    leak = media.make_leak(cut, choices, folder / "leak.ts")
    copies = media.attacks(cut, leak, media.BENCHMARK, folder)
    other = folder / "other.mp4"
    if not other.exists():
        source = "life=s=320x180:r=24:mold=10:ratio=0.3:seed=3,scale=1280:720:flags=neighbor,trim=duration=10"
        subprocess.run(
            [ffmpeg, *media.QUIET, "-f", "lavfi", "-i", source, *media.x264("1500k"), str(other)], check=True
        )
    short = folder / "one_second.mkv"
    if not short.exists():
        subprocess.run(
            [ffmpeg, *media.QUIET, "-ss", "5", "-t", "1", "-i", str(leak), *media.x264("2800k"), str(short)],
            check=True,
        )
    text = folder / "notes.mp4"
    text.write_text("Not a video, whatever its name says.\n" * 100)
    copies |= {"unmarked": cut.unmarked, "other": other, "one_second": short, "text": text}
    return World(ffmpeg, cut, media.FileReference(cut), choices, copies)


ATTACKS = {attack.name: attack for attack in media.BENCHMARK}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_reads_the_grants_sequence_through_each_attack(world: World, name: str) -> None:
    evidence = world.trace(name)
    assert evidence.status == "aligned", evidence.detail
    result = media.score(evidence, world.choices)
    seconds = 16 if ATTACKS[name].trim else world.cut.seconds
    expected = seconds / media.SEGMENT_S
    assert result.windows >= expected - 1
    assert result.confident >= 0.6 * expected, result
    assert result.correct >= 0.9 * result.confident, result


def test_an_excerpt_from_the_middle_lands_at_its_offset(world: World) -> None:
    alignment = world.trace("excerpt").alignment
    assert alignment is not None
    assert alignment.a == pytest.approx(1.0, abs=0.005)
    assert alignment.b == pytest.approx(ATTACKS["excerpt"].start_s, abs=0.05)
    assert world.trace("excerpt").covered_s == pytest.approx(16.0, abs=0.5)
    assert {d.index for d in world.trace("excerpt").decisions} >= set(range(6, 14))


def test_a_25_fps_copy_of_the_24_fps_cut_keeps_its_clock(world: World) -> None:
    alignment = world.trace("fps25").alignment
    assert alignment is not None
    assert alignment.a == pytest.approx(1.0, abs=0.005)
    assert alignment.b == pytest.approx(0.0, abs=0.05)


def test_a_geometric_attack_is_registered(world: World) -> None:
    alignment = world.trace("crop_4pct").alignment
    assert alignment is not None
    # A 4 % crop blown back up: the cut's frame is 1/0.96 of the suspect's, centred.
    scale_x, scale_y = alignment.transform[0], alignment.transform[4]
    assert scale_x == pytest.approx(1 / 0.96, abs=0.01)
    assert scale_y == pytest.approx(1 / 0.96, abs=0.01)
    assert alignment.quality > 0.9


def test_an_unmarked_copy_gives_no_confident_reading(world: World) -> None:
    evidence = world.trace("unmarked")
    assert evidence.status == "aligned"
    strengths = np.array([d.strength for d in evidence.decisions])
    assert len(strengths) >= world.cut.segment_count - 1
    # |z| >= 3 has a chance of 0.27 % per window under the null; two of twenty would be 1 in 700.
    assert (np.abs(strengths) >= 3).sum() <= 1, strengths
    assert float(np.mean(strengths**2)) < 2.5, strengths


def test_another_video_is_not_this_film(world: World) -> None:
    evidence = world.trace("other")
    assert evidence.status == "not_this_film", evidence.detail
    assert evidence.decisions == []


def test_a_text_file_is_not_a_video(world: World) -> None:
    assert world.trace("text").status == "not_video"


def test_a_one_second_clip_is_too_short(world: World) -> None:
    assert world.trace("one_second").status == "too_short"


def test_progress_is_reported_and_the_evidence_is_json(world: World) -> None:
    evidence = world.trace("excerpt")
    calls = world.progress["excerpt"]
    percents = [p for p, _ in calls]
    assert percents[0] == 0.0 and percents[-1] == 100.0
    assert percents == sorted(percents)
    assert {"decoding", "aligning", "measuring"} <= {stage for _, stage in calls}
    data = json.loads(json.dumps(evidence.to_dict()))
    assert data["status"] == "aligned"
    assert data["decisions"][0].keys() == {"index", "strength", "frames"}


def test_a_trace_stops_when_asked(world: World) -> None:
    calls: list[float] = []

    def cancel() -> bool:
        return bool(calls) and calls[-1] >= 50.0  # once it is reading windows

    with pytest.raises(detect.TraceCancelled):
        detect.trace(
            world.copies["excerpt"],
            world.reference,
            ffmpeg=world.ffmpeg,
            on_progress=lambda p, s: calls.append(p),
            should_cancel=cancel,
        )
    assert max(calls) < 100.0


def _band_field(rng: np.random.Generator, texture: np.ndarray) -> np.ndarray:
    noise = rng.normal(size=(detect.WORK_H, detect.WORK_W)).astype(np.float32) * texture
    return detect._band(noise, np.ones_like(noise))


@pytest.mark.parametrize("marked", [False, True])
def test_the_strength_is_a_z_score_under_the_null(marked: bool) -> None:
    """The statistic alone, on synthetic fields: residuals that do not contain the pattern give z ~ N(0, 1)
    however uneven their texture; residuals that contain a faint copy of it give a confident z."""
    rng = np.random.default_rng(11)
    rows = np.linspace(0.2, 3.0, detect.WORK_H, dtype=np.float32)[:, None]
    texture = np.broadcast_to(rows, (detect.WORK_H, detect.WORK_W)).copy()  # noisier towards the bottom
    strengths = []
    for trial in range(300):
        secret = trial.to_bytes(4, "big") * 8
        pattern = detect._band(
            mark.pattern_field(secret, 0, detect.WORK_W, detect.WORK_H), np.ones_like(texture)
        )
        evidence = _band_field(rng, texture)
        if marked:
            evidence = evidence + 0.08 * pattern
        strengths.append(detect._strength(evidence, pattern)[0])
    z = np.array(strengths)
    if marked:
        assert np.mean(z >= 3) > 0.9
    else:
        assert abs(float(z.mean())) < 0.2
        assert 0.85 < float(z.std()) < 1.15
        assert np.mean(np.abs(z) >= 3) < 0.015


def test_the_reference_constants_are_what_the_packager_is_told(world: World) -> None:
    times, thumbs = world.reference.timeline()
    assert thumbs.shape[1:] == (detect.THUMB_H, detect.THUMB_W) and times[0] == 0.0
    moments, var_a, var_b = world.reference.window(3)
    assert var_a.shape == var_b.shape == (len(moments), detect.WORK_H, detect.WORK_W)
    assert moments[0] == pytest.approx(3 * media.SEGMENT_S, abs=1e-6)
    assert moments[-1] < 3 * media.SEGMENT_S + mark.window_seconds(media.SEGMENT_S)
