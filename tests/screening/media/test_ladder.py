"""The ladder: standard rungs the source fills, never upscaled, aspect kept, even sides."""

from __future__ import annotations

import pytest

from screening.media.ladder import Rendition, plan_ladder


def sizes(ladder: list[Rendition]) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in ladder]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((3840, 2160), [("1080p", 1920, 1080), ("720p", 1280, 720), ("360p", 640, 360)]),
        ((1920, 1080), [("1080p", 1920, 1080), ("720p", 1280, 720), ("360p", 640, 360)]),
        ((1280, 720), [("720p", 1280, 720), ("360p", 640, 360)]),
        # Between rungs: only the smaller standard rungs, never an upscale (documented in ladder.py).
        ((854, 480), [("360p", 640, 360)]),
        ((1366, 768), [("720p", 1280, 720), ("360p", 640, 360)]),
        # Just short of a box: the rung is kept, at the source's own size.
        ((1248, 702), [("720p", 1248, 702), ("360p", 640, 360)]),
        # Scope: the 1080p rung is 1920 wide and keeps the 2.4:1 picture.
        ((1920, 800), [("1080p", 1920, 800), ("720p", 1280, 534), ("360p", 640, 266)]),
        # Portrait phone footage fits the boxes by height.
        ((1080, 1920), [("1080p", 608, 1080), ("720p", 404, 720), ("360p", 202, 360)]),
        # Too small for any rung: one rung at the source size, rounded down to even sides.
        ((356, 200), [("200p", 356, 200)]),
        ((355, 199), [("198p", 354, 198)]),
    ],
)
def test_ladder_table(source: tuple[int, int], expected: list[tuple[str, int, int]]) -> None:
    assert sizes(plan_ladder(*source)) == expected


def test_bitrates_and_rate_control() -> None:
    ladder = {r.name: r for r in plan_ladder(1920, 1080)}
    assert [ladder[name].video_bitrate_k for name in ("1080p", "720p", "360p")] == [5000, 2800, 800]
    for rendition in ladder.values():
        assert rendition.audio_bitrate_k == 128
        assert rendition.video_bitrate_k < rendition.maxrate_k < rendition.bufsize_k


def test_tiny_source_gets_a_bitrate_for_its_size() -> None:
    (only,) = plan_ladder(320, 180)
    assert 150 <= only.video_bitrate_k < 800


def test_every_side_is_even_and_never_above_the_source() -> None:
    for width in range(101, 2200, 97):
        for height in range(57, 1300, 89):
            for rendition in plan_ladder(width, height):
                assert rendition.width % 2 == 0 and rendition.height % 2 == 0
                assert rendition.width <= width and rendition.height <= height


def test_max_rungs_keeps_the_largest() -> None:
    assert [r.name for r in plan_ladder(1920, 1080, max_rungs=2)] == ["1080p", "720p"]
    assert [r.name for r in plan_ladder(1920, 1080, max_rungs=1)] == ["1080p"]


@pytest.mark.parametrize(("width", "height", "max_rungs"), [(0, 720, 3), (1280, 1, 3), (1280, 720, 0)])
def test_impossible_requests_are_refused(width: int, height: int, max_rungs: int) -> None:
    with pytest.raises(ValueError):
        plan_ladder(width, height, max_rungs=max_rungs)
