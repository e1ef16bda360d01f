"""Playlists rendered per grant from the packaged ones.

The stored playlists never leave the server as they are: every variant, key and segment URI is
rewritten for the grant that asks, so each viewer's URLs are their own doors; the segment door decides
what each grant gets (docs/playback.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.core.cache import cache
from django.urls import get_script_prefix, reverse

from screening.models import Cut
from screening.storage import media_store

KEY_LINE = re.compile(r'^(#EXT-X-KEY:.*URI=")(key/[0-9]{5})(".*)$')
SEGMENT_NAME = re.compile(r"^seg_[0-9]{5}\.ts$")


def stored_text_key(cut: Cut, relative: str) -> str:
    """The cache key of a packaged playlist's text (read by ``stored_text`` and by the lean front)."""
    return f"screening:playlist:{cut.public_id}:{relative}"


def stored_text(cut: Cut, relative: str) -> str:
    """A packaged playlist's text. Published cuts never change, so it is cached without expiry."""
    cache_key = stored_text_key(cut, relative)
    text = cache.get(cache_key)
    if text is None:
        text = b"".join(media_store().open_stream(cut.media_prefix + relative)).decode()
        cache.set(cache_key, text, timeout=None)
    return str(text)


_ANY_GRANT = "00000000-0000-0000-0000-000000000000"


@lru_cache(maxsize=8)
def _grant_path_around(script_prefix: str) -> tuple[str, str]:
    """What comes before and after the grant id in its doors' URL prefix, reversed once per script
    prefix (reversing costs more than rendering a short playlist)."""
    master = reverse("screening:master", args=[_ANY_GRANT])
    before, after = master.removesuffix("master.m3u8").split(_ANY_GRANT)
    return before, after


def _grant_path(grant_id: str) -> str:
    """The URL prefix of a grant's doors (/play/<grant>/)."""
    before, after = _grant_path_around(get_script_prefix())
    return f"{before}{grant_id}{after}"


def render_master(cut: Cut, grant_id: str, stored: str) -> str:
    """The master playlist for one grant, from the stored ``master.m3u8`` text."""
    prefix = _grant_path(grant_id)
    lines = []
    for line in stored.splitlines():
        if line and not line.startswith("#"):
            line = f"{prefix}{line.split('/', 1)[0]}/index.m3u8"
        lines.append(line)
    return "\n".join(lines) + "\n"


def render_media(cut: Cut, grant_id: str, rendition: str, stored: str) -> str:
    """A media playlist for one grant, from the stored ``<rendition>/index.m3u8`` text.

    Every segment is listed at its door, ``/play/<grant>/<rendition>/<name>``: a stable URL that never
    expires, so a player may fetch it at any time (a two-hour film, a seek back after an hour); each fetch
    is checked and paced at the door (``screening.doors``), which redirects to a short-lived URL.
    """
    prefix = _grant_path(grant_id)
    segment_prefix = f"{prefix}{rendition}/"
    lines = []
    for line in stored.splitlines():
        match = KEY_LINE.match(line)
        if match:  # each segment's key at the grant's key door: /play/<grant>/key/NNNNN
            line = f"{match.group(1)}{prefix}{match.group(2)}{match.group(3)}"
        elif line and not line.startswith("#"):
            line = segment_prefix + line.strip()
        lines.append(line)
    return "\n".join(lines) + "\n"
