"""Shared fixtures: people in every state of readiness, organisations, sessions and films.

Tests hit the real database (PostgreSQL in CI) and the real cache (Redis in CI). Each xdist worker
gets its own cache key prefix so rate limits and the TOTP replay guard never leak between workers.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Accreditation, AccreditationStatus, Membership, MembershipRole, Organisation, User
from festival.models import Edition, Film, FilmTeamMember, PostProductionNeed, Session

pytest_plugins = ["tests.live"]  # the embedded-server fixtures

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "correct horse battery staple"


def totp_code(secret: str = TOTP_SECRET, offset: int = 0) -> str:
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language: a test that activates one (a request through the
    language switcher, a ``translation.activate``) must not leave the next test of its process in it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Each async test runs in an event loop of its own, and channels_redis binds its locks and connection
    pools to the loop that first used them: every test gets a channel layer of its own."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any) -> Iterator[None]:
    """A fresh key prefix per test: rate limits and used TOTP codes start empty every time."""
    settings.CACHES = {
        name: {**conf, "KEY_PREFIX": f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{time.time_ns()}"}
        for name, conf in settings.CACHES.items()
    }
    yield  # Django's setting_changed handler rebuilds the cache handlers on both edges.
    cache.close()


def make_user(
    email: str,
    *,
    verified: bool = True,
    mfa: bool = True,
    staff: bool = False,
    full_name: str = "",
    language: str = "en",
) -> User:
    user = User.objects.create_user(
        email=email,
        password=PASSWORD,
        full_name=full_name or email.split("@")[0].title(),
        language=language,
        is_staff=staff,
        is_superuser=staff,
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    if mfa:
        TOTP.activate(user, TOTP_SECRET)
    return user


def make_org(name: str = "Cine Sur", country: str = "AR", company_type: str = "distributor") -> Organisation:
    return Organisation.objects.create(name=name, country=country, company_type=company_type)


def make_session(
    edition: Edition, name: str, *, starts: dt.date, days: int = 5, max_films: int = 6
) -> Session:
    return Session.objects.create(
        edition=edition,
        name=name,
        city=name,
        country="FR",
        starts_on=starts,
        ends_on=starts + dt.timedelta(days=days),
        max_films=max_films,
    )


def make_film(session: Session | None, title: str = "La Sombra", **extra: Any) -> Film:
    values: dict[str, Any] = {
        "title": title,
        "directors": ["Ana Pérez"],
        "countries": ["AR"],
        "production_company": "Sur Films",
        "runtime_minutes": 95,
        "stage": "fine_cut",
        "genre": "drama",
        "logline_en": "A logline.",
    }
    values.update(extra)
    return Film.objects.create(session=session, **values)


def accredit(
    user: User,
    org: Organisation,
    session: Session,
    status: str = AccreditationStatus.APPROVED,
    category: str = "distributor",
) -> Accreditation:
    Membership.objects.get_or_create(user=user, organisation=org)
    return Accreditation.objects.create(
        user=user,
        organisation=org,
        session=session,
        category=category,
        status=status,
        terms_accepted_at=timezone.now(),
    )


class World:
    """A small festival: two sessions with one film each, and people in every state."""

    def __init__(self) -> None:
        today = timezone.now().date()
        self.edition = Edition.objects.create(year=2099, name="Test edition")
        self.toulouse = make_session(self.edition, "Toulouse", starts=today - dt.timedelta(days=1))
        self.sansebastian = make_session(self.edition, "San Sebastián", starts=today + dt.timedelta(days=200))
        self.distributor_org = make_org("Cine Sur", "FR", "distributor")
        self.producer_org = make_org("Andes Producciones", "PE", "production")
        self.other_producer_org = make_org("Pampa Films", "AR", "production")
        self.admin = make_user("admin@festival.example", staff=True)
        self.pro = make_user("pro@cinesur.example", full_name="Marie Dupont")
        accredit(self.pro, self.distributor_org, self.toulouse)
        self.pending = make_user("pending@cinesur.example")
        accredit(self.pending, self.distributor_org, self.toulouse, status=AccreditationStatus.PENDING)
        self.rejected = make_user("rejected@cinesur.example")
        accredit(self.rejected, self.distributor_org, self.toulouse, status=AccreditationStatus.REJECTED)
        self.unverified = make_user("unverified@cinesur.example", verified=False)
        accredit(self.unverified, self.distributor_org, self.toulouse)
        self.no_mfa = make_user("nomfa@cinesur.example", mfa=False)
        accredit(self.no_mfa, self.distributor_org, self.toulouse)
        self.film = make_film(self.toulouse, "La Sombra del Cóndor")
        self.other_film = make_film(self.sansebastian, "Río Abajo")
        self.producer = make_user("producer@andes.example")
        Membership.objects.create(user=self.producer, organisation=self.producer_org)
        FilmTeamMember.objects.create(film=self.film, user=self.producer, organisation=self.producer_org)
        self.other_producer = make_user("producer@pampa.example")
        Membership.objects.create(user=self.other_producer, organisation=self.other_producer_org)
        FilmTeamMember.objects.create(
            film=self.other_film, user=self.other_producer, organisation=self.other_producer_org
        )
        accredit(self.other_producer, self.other_producer_org, self.toulouse)
        # Every Membership here is an approved member; each organisation's earliest member administers it
        # (as accounts' migration 0003 decided for existing rows).
        for admin, org in (
            (self.pro, self.distributor_org),
            (self.producer, self.producer_org),
            (self.other_producer, self.other_producer_org),
        ):
            Membership.objects.filter(user=admin, organisation=org).update(role=MembershipRole.ADMIN)
        self.need = PostProductionNeed.objects.create(
            film=self.film,
            category="colour_grading",
            estimated_cost_minor=1_500_000,
            secured_minor=500_000,
            currency="EUR",
        )


@pytest.fixture
def world(db: Any) -> World:
    return World()


def logged_in_client(user: User) -> Client:
    """A page client signed in as ``user`` (the full password + TOTP flow is tested in test_login)."""
    client = Client()
    client.force_login(user)
    return client


def api_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def audit_actions() -> list[str]:
    from audit.models import AuditEntry

    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


__all__ = ["Authenticator"]


@pytest.fixture
async def close_thread_connections() -> Any:
    """Async tests reach the database from asgiref's executor thread; close its connections afterwards so
    the test database can be dropped at the end of the run."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    yield
    await sync_to_async(connections.close_all)()
