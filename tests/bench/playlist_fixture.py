"""Builds the playlist benchmark's world in a database of its own and prints what the load needs.

Run as a script with DJANGO_SETTINGS_MODULE and DATABASE_URL set: migrates, creates one film in an open
session with a published cut (a real packaged ladder), N accredited viewers with verified email and
TOTP, a logged-in session and a live grant each, and prints JSON: one entry per viewer with its cookies
and the URLs of its media playlist and key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402


def main(viewers: int, work: Path) -> None:
    call_command("migrate", verbosity=0)
    from accounts.models import Accreditation, AccreditationStatus, Membership
    from screening import services
    from screening.media.binary import ffmpeg_binary
    from screening.media.keys import new_content_key
    from screening.media.ladder import plan_ladder
    from screening.media.package import package_hls
    from tests.conftest import World, make_user
    from tests.screening.conftest import DEVICE, Packaged, publish
    from tests.screening.media.conftest import make_clip

    world = World()
    ffmpeg = ffmpeg_binary()
    source = make_clip(ffmpeg, work / "clip.mp4", width=640, height=360, seconds=30)
    key = new_content_key()
    result = package_hls(
        source,
        work / "out",
        renditions=plan_ladder(640, 360),
        key=key,
        segment_seconds=6,
        ffmpeg=ffmpeg,
        duration_s=30.0,
    )
    cut = publish(world, Packaged(source=source, out=work / "out", key=key, result=result))
    out = []
    for i in range(viewers):
        user = make_user(f"viewer{i}@bench.example")
        Membership.objects.create(user=user, organisation=world.distributor_org)
        from django.utils import timezone

        Accreditation.objects.create(
            user=user,
            organisation=world.distributor_org,
            session=world.toulouse,
            category="distributor",
            status=AccreditationStatus.APPROVED,
            terms_accepted_at=timezone.now(),
        )
        device = f"{DEVICE}-{i}"
        grant = services.grant_issue(user=user, cut=cut, device_token=device)
        from importlib import import_module

        from django.conf import settings

        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        rendition = cut.renditions[0]["name"]
        out.append(
            {
                "cookies": {"sessionid": session.session_key, "fip_device": device},
                "playlist": reverse("screening:media-playlist", args=[grant.id, rendition]),
                "key": reverse("screening:key", args=[grant.id, "00000"]),  # segment 0's key
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
