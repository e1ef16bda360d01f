"""Over the thread's WebSocket too, a request to join an organisation reaches nothing until approved, and
removal takes the thread away (the REST, memo and payment cases are in test_memberships.py)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import Membership, MembershipRequest, User
from accounts.services import memberships
from core.async_db import close_async_database
from offers.models import Offer
from tests.conftest import World, make_user
from tests.offers.conftest import submitted_offer
from tests.offers.test_thread_socket import _open, _socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


def _setup(world: World) -> tuple[User, Offer, int]:
    stranger = make_user("sam@elsewhere.example", full_name="Sam Stranger")
    request = memberships.membership_request_create(user=stranger, organisation=world.distributor_org)
    return stranger, submitted_offer(world), request.pk


async def test_the_thread_socket_opens_only_to_approved_members(world: World) -> None:
    stranger, offer, request_id = await database_sync_to_async(_setup)(world)
    try:
        pending = await _socket(stranger, offer.pk)
        assert await pending.connect() == (False, 4404)

        request = await database_sync_to_async(MembershipRequest.objects.get)(pk=request_id)
        await database_sync_to_async(memberships.membership_request_approve)(actor=world.pro, request=request)
        socket, events = await _open(stranger, offer.pk)
        assert [e["kind"] for e in events][:1] == ["submitted"]
        await socket.disconnect()

        membership = await database_sync_to_async(Membership.objects.get)(
            user=stranger, organisation=world.distributor_org
        )
        await database_sync_to_async(memberships.membership_remove)(actor=world.pro, membership=membership)
        removed = await _socket(stranger, offer.pk)
        assert await removed.connect() == (False, 4404)
    finally:
        await close_async_database()
