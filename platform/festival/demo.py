"""Builds the demo edition from ``festival.demo_data`` through the services, so it has an audit trail.

Idempotent: an edition that already exists is reused as it is.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.models import Membership, Organisation, User
from accounts.services.accreditations import accreditation_apply, accreditation_approve
from accounts.services.memberships import membership_grant
from accounts.services.organisations import organisation_create
from festival import demo_data as data
from festival import services as festival_services
from festival.models import Edition, Session


@cache
def _demo_password_hash() -> str:
    """The demo password hashed once (a deliberately slow hash: ~0.5 s each, twenty accounts)."""
    return make_password(data.DEMO_PASSWORD)


def _ensure_user(person: data.PersonData) -> User:
    user = User.objects.filter(email=person["email"]).first()
    if user is None:
        user = User.objects.create_user(
            email=person["email"],
            password=None,
            full_name=person["full_name"],
            language=person["language"],
            is_staff=person["role"] == "admin",
            is_superuser=person["role"] == "admin",
        )
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, data.DEMO_TOTP_SECRET)
    return user


def _poster(title: str, index: int) -> SimpleUploadedFile:
    """A generated poster: a two-colour gradient with the title, so the demo has pictures to look at."""
    palette = [((184, 65, 44), (29, 27, 25)), ((44, 110, 106), (20, 30, 40)), ((200, 140, 40), (60, 20, 40))]
    top, bottom = palette[index % len(palette)]
    width, height = 600, 900
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    font = ImageFont.load_default(size=44)
    words, lines, line = title.upper().split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) > width - 80 and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    for i, text in enumerate(lines):
        draw.text((40, 560 + i * 56), text, font=font, fill=(250, 247, 242))
    draw.text(
        (40, 830), "FILMS IN PROGRESS · WIP", font=ImageFont.load_default(size=22), fill=(250, 247, 242)
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(f"poster-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


def _session_dates(key: str, nominal: data.SessionData) -> tuple[dt.date, dt.date]:
    """Toulouse runs around today so its screening window is open in the demo; the other keeps its dates."""
    if key == "toulouse":
        today = timezone.now().date()
        return today - dt.timedelta(days=2), today + dt.timedelta(days=3)
    return dt.date.fromisoformat(nominal["starts_on"]), dt.date.fromisoformat(nominal["ends_on"])


def seed_demo(*, with_posters: bool = True) -> tuple[bool, Edition]:
    """Create the demo edition. Returns (created, edition)."""
    existing = Edition.objects.filter(year=data.EDITION["year"]).first()
    if existing is not None:
        return False, existing
    users = {person["key"]: _ensure_user(person) for person in data.PEOPLE}
    admin = next(users[p["key"]] for p in data.PEOPLE if p["role"] == "admin")
    with transaction.atomic():
        edition = festival_services.edition_create(
            admin=admin, year=data.EDITION["year"], name=data.EDITION["name"]
        )
        sessions: dict[str, Session] = {}
        for session in data.SESSIONS:
            starts_on, ends_on = _session_dates(session["key"], session)
            sessions[session["key"]] = festival_services.session_save(
                admin=admin,
                data={
                    "edition": edition,
                    "name": session["name"],
                    "city": session["city"],
                    "country": session["country"],
                    "venue": session["venue"],
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                },
            )
        organisations: dict[str, Organisation] = {}
        members = {p["organisation"]: users[p["key"]] for p in data.PEOPLE}
        for org in data.ORGANISATIONS:
            founder = members.get(org["key"], admin)
            organisations[org["key"]] = organisation_create(
                user=founder, name=org["name"], country=org["country"], company_type=org["company_type"]
            )
        for person in data.PEOPLE:  # the founders belong already; the festival admin grants the others
            organisation, user = organisations[person["organisation"]], users[person["key"]]
            if not Membership.objects.filter(user=user, organisation=organisation).exists():
                membership_grant(actor=admin, organisation=organisation, user=user)
        for accreditation in data.ACCREDITATIONS:
            person = next(p for p in data.PEOPLE if p["key"] == accreditation["person"])
            applied = accreditation_apply(
                user=users[person["key"]],
                session=sessions[accreditation["session"]],
                organisation=organisations[person["organisation"]],
                category=accreditation["category"],
                accept_terms=True,
                motivation="",
            )
            if accreditation["status"] == "approved":
                accreditation_approve(accreditation=applied, admin=admin, notify=False)
        for index, film_data in enumerate(data.FILMS):
            film = festival_services.film_create(
                admin=admin,
                session=sessions[film_data["session"]],
                data={
                    "title": film_data["title"],
                    "original_title": film_data["original_title"],
                    "directors": film_data["directors"],
                    "countries": film_data["countries"],
                    "production_company": film_data["production_company"],
                    "runtime_minutes": film_data["runtime_minutes"],
                    "stage": film_data["stage"],
                    "genre": film_data["genre"],
                    **{f"logline_{lang}": text for lang, text in film_data["logline"].items()},
                    **{f"synopsis_{lang}": text for lang, text in film_data["synopsis"].items()},
                },
            )
            for producer in film_data["producers"]:
                festival_services.film_team_assign(
                    admin=admin,
                    film=film,
                    user=users[producer],
                    organisation=organisations[film_data["producer_org"]],
                )
            for need in film_data["needs"]:
                festival_services.need_add(user=admin, film=film, data=dict(need))
            if with_posters:
                festival_services.film_set_poster(
                    user=admin, film=film, poster=_poster(film_data["title"], index)
                )
    return True, edition
