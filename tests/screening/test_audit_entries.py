"""Every screening entry names who acted, for which organisation (docs/architecture.md, invariant 4): a
team member acts for the organisation they produce the film for, a viewer for the company they watch
for; an admin acts for the festival and the packaging worker as the system, so theirs name none.
Action names come from the catalogue (``audit.actions``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import User
from audit.models import AuditEntry
from screening import services
from screening.models import Cut
from tests.conftest import World
from tests.screening.conftest import viewer_client
from tests.screening.test_playback_doors import press_play

pytestmark = pytest.mark.django_db


def _entry(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-seq").first()
    assert entry is not None, action
    return entry


def _rules(world: World, user: User) -> None:
    services.audience_rules_set(
        user=user,
        film=world.film,
        allowed_categories=["distributor"],
        blocked_organisations=[],
        territory_mode="all",
        territories=[],
        max_plays_after_session=None,
    )


def test_a_team_members_entries_name_the_organisation_they_produce_for(
    world: World, store_root: Path
) -> None:
    _rules(world, world.producer)
    entry = _entry("film.audience_rules_changed")
    assert (entry.actor_id, entry.organisation_id) == (world.producer.pk, world.producer_org.pk)
    cut = services.cut_create(user=world.producer, film=world.film, filename="fine-cut.mp4", size=1000)
    entry = _entry("cut.upload_started")
    assert (entry.actor_id, entry.organisation_id) == (world.producer.pk, world.producer_org.pk)
    services.cut_cancel(user=world.producer, cut=cut)
    entry = _entry("cut.cancelled")
    assert (entry.actor_id, entry.organisation_id) == (world.producer.pk, world.producer_org.pk)
    assert (entry.data["from"], entry.data["to"]) == ("uploading", "cancelled")
    assert (entry.data["film_id"], entry.data["number"]) == (world.film.pk, cut.number)
    assert Cut.objects.get(pk=cut.pk).status == "cancelled"


def test_an_admin_acts_for_the_festival(world: World, store_root: Path) -> None:
    _rules(world, world.admin)
    entry = _entry("film.audience_rules_changed")
    assert (entry.actor_id, entry.organisation_id) == (world.admin.pk, None)
    services.access_revoke(admin=world.admin, user=world.pro, film=world.film, reason="Leak")
    entry = _entry("access.revoked")
    assert (entry.actor_id, entry.organisation_id) == (world.admin.pk, None)


def test_a_viewers_grant_names_the_company_they_watch_for(world: World, cut: Cut) -> None:
    press_play(viewer_client(world.pro), cut)
    entry = _entry("grant.issued")
    assert (entry.actor_id, entry.organisation_id) == (world.pro.pk, world.distributor_org.pk)
