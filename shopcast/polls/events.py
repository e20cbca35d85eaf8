"""Realtime events of polls, published to the episode's room (docs/api.md lists each)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.polls.schemas import PollResult, PublicPoll

POLL_OPENED = "poll:opened"
POLL_CLOSED = "poll:closed"
# Passing state: at most four times a second per poll, never kept for catch-up (the snapshot has it).
POLL_TALLY = "poll:tally"


class PollOpened(BaseModel):
    """Payload of `poll:opened`."""

    poll: PublicPoll = Field(description="The poll now taking votes.")


class PollClosed(BaseModel):
    """Payload of `poll:closed`."""

    poll: PublicPoll = Field(description="The poll, now closed.")
    result: PollResult = Field(description="The final tally, and for a quiz the right answer.")


class PollTallied(BaseModel):
    """Payload of `poll:tally`."""

    poll_id: uuid.UUID = Field(description="The poll counted.")
    votes: dict[str, int] = Field(description="Voters per option id (every option, 0 included).")
    voters: int = Field(description="How many viewers voted.")
