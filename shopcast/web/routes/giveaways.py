"""Giveaways over HTTP: the manager's drafts, the host's open/close/draw/redraw, the winner's claim,
the public proof anyone can check with `shopcast giveaway verify`, and the list of an episode's
giveaways the replay page shows the proofs of."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from shopcast.contests import claims
from shopcast.contests import public as public_giveaways
from shopcast.contests import service as giveaways
from shopcast.contests.schemas import (
    ClaimIn,
    EpisodeGiveaway,
    GiveawayIn,
    GiveawayPatch,
    MyGiveaway,
    Proof,
    StaffGiveaway,
)
from shopcast.web.api import Api, Call

api = Api()


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/giveaways",
    summary="Prepare a giveaway for the episode (managers)",
    tag="giveaways",
    response=StaffGiveaway,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def create_giveaway(call: Call, episode_id: uuid.UUID, body: GiveawayIn) -> StaffGiveaway:
    return await giveaways.create_giveaway(
        call.session, actor=call.actor, episode_id=episode_id, data=body, now=call.now()
    )


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/giveaways",
    summary="The episode's giveaways with their winners and claims (brand staff)",
    tag="giveaways",
    response=list[StaffGiveaway],
    access="signed-in",
)
async def list_giveaways(call: Call, episode_id: uuid.UUID) -> list[StaffGiveaway]:
    return await giveaways.list_giveaways(call.session, actor=call.actor, episode_id=episode_id, now=call.now())


@api.route(
    "PATCH",
    "/api/v1/giveaways/{giveaway_id}",
    summary="Change a draft giveaway (managers)",
    tag="giveaways",
    response=StaffGiveaway,
    access="signed-in",
    errors=(409,),
)
async def update_giveaway(call: Call, giveaway_id: uuid.UUID, body: GiveawayPatch) -> StaffGiveaway:
    return await giveaways.update_giveaway(
        call.session, actor=call.actor, giveaway_id=giveaway_id, data=body, now=call.now()
    )


@api.route(
    "DELETE",
    "/api/v1/giveaways/{giveaway_id}",
    summary="Delete a draft giveaway (managers)",
    tag="giveaways",
    status=204,
    access="signed-in",
    errors=(409,),
)
async def delete_giveaway(call: Call, giveaway_id: uuid.UUID) -> None:
    await giveaways.delete_giveaway(call.session, actor=call.actor, giveaway_id=giveaway_id)


OnAir = Callable[..., Awaitable[StaffGiveaway]]


async def _on_air(call: Call, action: OnAir, giveaway_id: uuid.UUID) -> StaffGiveaway:
    return await action(call.session, actor=call.actor, giveaway_id=giveaway_id, now=call.now(), bus=call.resources.bus)


@api.route(
    "POST",
    "/api/v1/giveaways/{giveaway_id}/open",
    summary="Open entries and publish the commitment to the seed (host, manager; live)",
    tag="giveaways",
    response=StaffGiveaway,
    access="signed-in",
    errors=(409,),
)
async def open_giveaway(call: Call, giveaway_id: uuid.UUID) -> StaffGiveaway:
    return await _on_air(call, giveaways.open_giveaway, giveaway_id)


@api.route(
    "POST",
    "/api/v1/giveaways/{giveaway_id}/close",
    summary="Stop taking entries (host, manager)",
    tag="giveaways",
    response=StaffGiveaway,
    access="signed-in",
    errors=(409,),
)
async def close_giveaway(call: Call, giveaway_id: uuid.UUID) -> StaffGiveaway:
    return await _on_air(call, giveaways.close_giveaway, giveaway_id)


@api.route(
    "POST",
    "/api/v1/giveaways/{giveaway_id}/draw",
    summary="Draw the winners among the eligible entries and reveal the seed (host, manager; live)",
    tag="giveaways",
    response=StaffGiveaway,
    access="signed-in",
    errors=(409,),
)
async def draw_giveaway(call: Call, giveaway_id: uuid.UUID) -> StaffGiveaway:
    await call.resources.facts.flush()  # who is in the room and since when, as this process knows it
    return await _on_air(call, giveaways.draw_winners, giveaway_id)


@api.route(
    "POST",
    "/api/v1/giveaways/{giveaway_id}/redraw",
    summary="Draw again for the prizes left unclaimed past their deadline (host, manager)",
    tag="giveaways",
    response=StaffGiveaway,
    access="signed-in",
    errors=(409,),
)
async def redraw_giveaway(call: Call, giveaway_id: uuid.UUID) -> StaffGiveaway:
    await call.resources.facts.flush()
    return await _on_air(call, giveaways.redraw, giveaway_id)


@api.route(
    "GET",
    "/api/v1/giveaways/{giveaway_id}/me",
    summary="The caller's entry, and the claim form if it won",
    tag="giveaways",
    response=MyGiveaway,
    access="signed-in",
)
async def my_giveaway(call: Call, giveaway_id: uuid.UUID) -> MyGiveaway:
    return await claims.my_giveaway(call.session, actor=call.actor, giveaway_id=giveaway_id, now=call.now())


@api.route(
    "POST",
    "/api/v1/giveaways/{giveaway_id}/claim",
    summary="Claim a prize won: an email, and a delivery address or a pickup store (its winner only)",
    tag="giveaways",
    response=MyGiveaway,
    access="signed-in",
    errors=(409,),
)
async def claim_prize(call: Call, giveaway_id: uuid.UUID, body: ClaimIn) -> MyGiveaway:
    return await claims.claim_prize(call.session, actor=call.actor, giveaway_id=giveaway_id, data=body, now=call.now())


@api.route(
    "GET",
    "/api/v1/public/giveaways/{giveaway_id}/proof",
    summary="The draw's proof: commitment, seed, eligible entry ids and winners of every round",
    tag="giveaways",
    response=Proof,
)
async def giveaway_proof(call: Call, giveaway_id: uuid.UUID) -> Proof:
    return await giveaways.proof(call.session, giveaway_id=giveaway_id)


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/giveaways",
    summary="The episode's giveaways that opened, with their commitment and, once drawn, their seed (anyone)",
    tag="giveaways",
    response=list[EpisodeGiveaway],
)
async def episode_giveaways(call: Call, episode_id: uuid.UUID) -> list[EpisodeGiveaway]:
    return await public_giveaways.episode_giveaways(call.session, episode_id=episode_id)
