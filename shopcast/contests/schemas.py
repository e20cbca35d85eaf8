"""What giveaways take in and give out: staff's drafts, the public card, entries, claims and proofs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints, model_validator

from shopcast.catalog.schemas import Currency, Line, Money, PickupStore, PictureUrl, Title
from shopcast.core.errors import InvalidValue

Status = Literal["draft", "open", "closed", "drawn"]
EntryMethod = Literal["button", "keyword"]
ClaimStatus = Literal["pending", "claimed", "expired"]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Rules = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class PrizeValue(BaseModel):
    amount: Money
    currency: Currency


class Prize(BaseModel):
    title: Title
    picture_url: PictureUrl | None = None
    value: PrizeValue


class Eligibility(BaseModel):
    present_at_draw: bool = Field(True, description="Only entrants in the room when the host draws.")
    min_watch_minutes: int = Field(0, ge=0, le=600, description="Minutes of this episode watched, at least.")
    bought_during_show: bool = Field(False, description="Only entrants who ordered during this live.")


class GiveawayIn(BaseModel):
    prize: Prize
    winners: int = Field(1, ge=1, le=50)
    rules: Rules = ""
    entry: EntryMethod = Field("button", description="`button` in the player, or `keyword` typed in the chat.")
    keyword: Keyword | None = Field(None, description="Required for `keyword` entry; matched trimmed, any case.")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    claim_hours: int = Field(72, ge=1, le=720, description="How long a winner has to claim the prize.")

    @model_validator(mode="after")
    def _keyword(self) -> GiveawayIn:
        if self.entry == "keyword" and not self.keyword:
            raise InvalidValue("errors.giveaway.keyword")
        if self.entry == "button":
            self.keyword = None
        return self


class GiveawayPatch(BaseModel):
    prize: Prize | None = None
    winners: int | None = Field(None, ge=1, le=50)
    rules: Rules | None = None
    entry: EntryMethod | None = None
    keyword: Keyword | None = None
    eligibility: Eligibility | None = None
    claim_hours: int | None = Field(None, ge=1, le=720)


class PublicGiveaway(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    prize: Prize
    winners: int = Field(description="How many prizes.")
    rules: str
    entry: EntryMethod
    keyword: str | None
    eligibility: Eligibility
    status: Status
    commitment: str | None = Field(description="SHA-256 of the seed (hex), published when entries open.")
    entries: int


class DrawnRound(BaseModel):
    """One draw (round 0) or redraw, as the replay reveals it at its moment: entry ids, never names."""

    round: int
    at: datetime
    eligible: int = Field(description="Entries it was drawn among.")
    winners: list[uuid.UUID] = Field(description="The entries this round picked, in the order drawn.")


class EpisodeGiveaway(PublicGiveaway):
    """A giveaway once it opened, as anyone may see it after the show: no names, only counts and the seed."""

    seed: str | None = Field(description="Revealed at the draw; null before.")
    rounds: int = Field(description="Rounds drawn: 1 after the draw, one more for each redraw; 0 before the draw.")
    opened_at: datetime | None
    closed_at: datetime | None
    drawn_at: datetime | None
    draws: list[DrawnRound] = Field(description="Every round drawn, in order.")


class DrawnWinner(BaseModel):
    entry_id: uuid.UUID
    name: str = Field(description="The winner's nickname or account name; empty if none.")


class Drawn(BaseModel):
    round: int = Field(description="The latest round: 0 for the draw, then 1, 2… for redraws.")
    seed: str
    winners: list[DrawnWinner] = Field(description="Every prize's current winner, in the order drawn.")


class GiveawaySnapshot(PublicGiveaway):
    my_entry_id: uuid.UUID | None
    drawn: Drawn | None


class WinnerOut(BaseModel):
    entry_id: uuid.UUID
    name: str
    round: int
    claim_deadline: datetime
    status: ClaimStatus
    claimed_at: datetime | None
    claim: dict[str, object] | None = Field(
        description="What the winner sent: email, delivery or pickup store (shown to managers only)."
    )


class StaffGiveaway(PublicGiveaway):
    claim_hours: int
    seed: str | None = Field(description="Revealed at the draw.")
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    drawn_at: datetime | None
    drawn_winners: list[WinnerOut] = Field(description="Every winner of every round, with the claim's status.")


class EntryOut(BaseModel):
    id: uuid.UUID
    giveaway_id: uuid.UUID


class DeliveryAddress(BaseModel):
    name: Line
    address_line: Line
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    city: Line
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]


class ClaimIn(BaseModel):
    email: EmailStr
    delivery: DeliveryAddress | None = None
    pickup_store_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ClaimIn:
        if (self.delivery is None) == (self.pickup_store_id is None):
            raise InvalidValue("errors.giveaway.address_or_store")
        return self


class ClaimOut(BaseModel):
    deadline: datetime
    status: ClaimStatus
    fields: list[str] = Field(description="What the claim form asks for.")
    pickup_stores: list[PickupStore] = Field(description="Stores the prize can be collected from.")
    claimed_at: datetime | None
    claim: dict[str, object] | None


class MyGiveaway(BaseModel):
    entry_id: uuid.UUID | None
    won: bool
    claim: ClaimOut | None


class ProofRound(BaseModel):
    round: int
    prizes: int = Field(description="Prizes drawn in this round.")
    eligible_entry_ids: list[str] = Field(description="Sorted ascending, canonical lowercase UUIDs.")
    winners: list[str] = Field(description="Entry ids, in the order drawn.")


class Proof(BaseModel):
    giveaway_id: uuid.UUID
    commitment: str | None
    seed: str | None
    algorithm: str
    rounds: list[ProofRound]
