"""Realtime events of giveaways, published to the episode's room (docs/api.md lists each)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.contests.schemas import DrawnWinner, PublicGiveaway

GIVEAWAY_OPENED = "giveaway:opened"
GIVEAWAY_CLOSED = "giveaway:closed"
GIVEAWAY_DRAWN = "giveaway:drawn"
GIVEAWAY_REDRAWN = "giveaway:redrawn"
# Passing state: the entry count, told at a bounded rate, never kept for catch-up.
GIVEAWAY_ENTRIES = "giveaway:entries"


class GiveawayOpened(BaseModel):
    """Payload of `giveaway:opened`."""

    giveaway: PublicGiveaway = Field(description="The giveaway, with the commitment to its seed.")


class GiveawayClosed(BaseModel):
    """Payload of `giveaway:closed`."""

    giveaway_id: uuid.UUID = Field(description="The giveaway that stopped taking entries.")
    entries: int = Field(description="Its final number of entries.")


class GiveawayEntries(BaseModel):
    """Payload of `giveaway:entries`."""

    giveaway_id: uuid.UUID = Field(description="The open giveaway.")
    entries: int = Field(description="Entries so far.")


class GiveawayDrawn(BaseModel):
    """Payload of `giveaway:drawn` (round 0) and `giveaway:redrawn` (later rounds)."""

    giveaway_id: uuid.UUID = Field(description="The giveaway drawn.")
    round: int = Field(description="0 for the draw, 1, 2… for redraws of unclaimed prizes.")
    seed: str = Field(description="The revealed seed: its SHA-256 is the commitment published at open.")
    winners: list[DrawnWinner] = Field(description="This round's winners, in the order drawn.")
    eligible: int = Field(description="How many eligible entries this round drew from.")
    proof_url: str = Field(description="Where anyone can read the proof.")


class GiveawayDrawnWebhook(GiveawayDrawn):
    """Data of the `giveaway.drawn` webhook (the draw and each redraw): the room's payload, and what the
    brand's shop needs to send the prize."""

    episode_id: uuid.UUID = Field(description="The episode the giveaway ran in.")
    prize_title: str = Field(description="The prize, as the giveaway names it.")


def proof_url(giveaway_id: uuid.UUID) -> str:
    return f"/api/v1/public/giveaways/{giveaway_id}/proof"
