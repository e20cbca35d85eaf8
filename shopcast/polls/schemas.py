from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from shopcast.core.errors import InvalidValue

PollStatus = Literal["draft", "open", "closed"]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
MIN_OPTIONS, MAX_OPTIONS = 2, 6


class OptionIn(BaseModel):
    label: Label | None = Field(None, description="What viewers tap; a product's title when left out.")
    product_id: uuid.UUID | None = Field(None, description="A product of the episode's lineup.")

    @model_validator(mode="after")
    def _labelled(self) -> OptionIn:
        if self.label is None and self.product_id is None:
            raise InvalidValue("errors.poll.label_or_product")
        return self


class PollIn(BaseModel):
    question: Question
    options: list[OptionIn] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    multiple: bool = Field(False, description="Viewers may pick several options.")
    allow_change: bool = Field(True, description="Viewers may change their vote until the poll closes.")
    duration_seconds: int | None = Field(None, ge=10, le=3600, description="Closes by itself this long after opening.")
    quiz: bool = Field(False, description="A quiz: the right answer is revealed at close.")
    correct_options: list[int] = Field(
        default_factory=list, max_length=MAX_OPTIONS, description="A quiz's right options, as indexes into `options`."
    )

    @model_validator(mode="after")
    def _answers(self) -> PollIn:
        chosen = self.correct_options
        if not self.quiz:
            if chosen:
                raise InvalidValue("errors.poll.only_quiz")
            return self
        if not chosen:
            raise InvalidValue("errors.poll.quiz_answer")
        if len(set(chosen)) != len(chosen) or any(not 0 <= i < len(self.options) for i in chosen):
            raise InvalidValue("errors.poll.answer_indexes", last=len(self.options) - 1)
        if not self.multiple and len(chosen) != 1:
            raise InvalidValue("errors.poll.one_answer")
        return self


class PollUpdate(BaseModel):
    """A draft's changes: the fields given replace the draft's (options all at once)."""

    question: Question | None = None
    options: list[OptionIn] | None = Field(None, min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    multiple: bool | None = None
    allow_change: bool | None = None
    duration_seconds: int | None = Field(None, ge=10, le=3600, description="Send null to remove the countdown.")
    quiz: bool | None = None
    correct_options: list[int] | None = Field(None, max_length=MAX_OPTIONS)


class Money(BaseModel):
    amount: int = Field(description="Minor units (4990 is 49.90).")
    currency: str


class OptionProduct(BaseModel):
    id: uuid.UUID
    title: str
    picture_url: str | None
    price: Money


class OptionOut(BaseModel):
    id: uuid.UUID
    label: str
    product: OptionProduct | None = Field(description="The product this option is, while it is in the lineup.")


class Tally(BaseModel):
    votes: dict[str, int] = Field(description="Voters per option id (every option, 0 included).")
    voters: int


class PollResult(Tally):
    correct_option_ids: list[uuid.UUID] | None = Field(description="A quiz's right options; null for a poll.")
    correct_share: float | None = Field(
        description="A quiz's share of voters (0 to 1) who picked exactly the right options (null: a poll, no voter)."
    )


class PublicPoll(BaseModel):
    """A poll as viewers see it: never a quiz's answer before it closes."""

    id: uuid.UUID
    episode_id: uuid.UUID
    question: str
    options: list[OptionOut]
    multiple: bool
    allow_change: bool
    quiz: bool
    status: PollStatus
    opened_at: datetime | None
    closes_at: datetime | None


class PublicPollView(PublicPoll):
    result: PollResult | None = Field(description="Once closed.")


class EpisodePoll(PublicPollView):
    """A poll of the episode as the replay shows it, at the times it was open."""

    closed_at: datetime | None


class RoomPoll(PublicPoll):
    """The poll in the join snapshot: the open one, or the one closed in the last minute."""

    tally: Tally
    my_vote: list[uuid.UUID] | None = Field(description="The joining viewer's options, if they voted.")
    result: PollResult | None = Field(description="Once closed.")


class PollOut(PublicPoll):
    """A poll as the brand's staff see it."""

    duration_seconds: int | None
    correct_option_ids: list[uuid.UUID]
    tally: Tally
    result: PollResult | None
    created_at: datetime
    closed_at: datetime | None


class VoteOut(BaseModel):
    poll_id: uuid.UUID
    option_ids: list[uuid.UUID]
