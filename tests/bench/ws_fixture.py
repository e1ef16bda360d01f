"""Builds the WebSocket benchmark's world in a database of its own and prints what the load needs.

Run as a script with DJANGO_SETTINGS_MODULE and DATABASE_URL set: migrates, then creates N films, each
with its own producer, and N distributors (each in an organisation of its own, accredited to the films'
session, ready: verified email and TOTP) who each submit one offer through the services, so every
thread has exactly two parties. Prints JSON, one entry per thread: the offer id, its last sequence
number and a signed-in session key for each party.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402


def main(threads: int) -> None:
    call_command("migrate", verbosity=0)
    from accounts.models import Membership
    from festival.models import Edition, FilmTeamMember
    from offers.services import offers as services
    from tests.bench.ws_stack import create_session
    from tests.conftest import accredit, make_film, make_org, make_session, make_user
    from tests.offers.terms import examples

    today = timezone.now().date()
    edition = Edition.objects.create(year=2098, name="Bench edition")
    session = make_session(edition, "Bench", starts=today - dt.timedelta(days=1), max_films=threads)
    producers = make_org("Bench Producciones", "PE", "production")
    out = []
    for i in range(threads):
        film = make_film(session, f"Bench film {i}")
        producer = make_user(f"producer{i}@bench.example")
        Membership.objects.create(user=producer, organisation=producers)
        FilmTeamMember.objects.create(film=film, user=producer, organisation=producers)
        distributor = make_org(f"Bench distributor {i}", "FR", "distributor")
        pro = make_user(f"pro{i}@bench.example")
        accredit(pro, distributor, session)
        draft = services.offer_create(
            user=pro, film=film, organisation=distributor, terms_data=examples.completion_fund()
        )
        offer = services.offer_submit(user=pro, offer=draft)
        out.append(
            {
                "offer": offer.pk,
                "last_seq": offer.last_seq,
                "offeror": create_session(pro),
                "producer": create_session(producer),
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]))
