"""An episode's life: scheduled → live → ended, or cancelled before it airs."""

from __future__ import annotations

from enum import StrEnum

from shopcast.core.errors import Conflict, Phrase


class EpisodeStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"

    @property
    def word(self) -> Phrase:
        """The status in a reason ("the episode is {status}"), in the reader's language."""
        return Phrase(f"errors.episode_status.{self.value}")


ALLOWED = {
    EpisodeStatus.SCHEDULED: {EpisodeStatus.LIVE, EpisodeStatus.CANCELLED},
    EpisodeStatus.LIVE: {EpisodeStatus.ENDED},
    EpisodeStatus.ENDED: set(),
    EpisodeStatus.CANCELLED: set(),
}

_WHY = {
    (EpisodeStatus.SCHEDULED, EpisodeStatus.ENDED): Phrase("errors.episode.not_live_yet"),
    (EpisodeStatus.LIVE, EpisodeStatus.CANCELLED): Phrase("errors.episode.end_it"),
    (EpisodeStatus.LIVE, EpisodeStatus.LIVE): Phrase("errors.episode.already_live"),
    (EpisodeStatus.ENDED, EpisodeStatus.LIVE): Phrase("errors.episode.ended_for_good"),
    (EpisodeStatus.CANCELLED, EpisodeStatus.LIVE): Phrase("errors.episode.was_cancelled"),
}


def check_transition(current: EpisodeStatus, to: EpisodeStatus) -> None:
    """Raise 409 with the reason when `current` cannot become `to`."""
    if to in ALLOWED[current]:
        return
    reason = _WHY.get((current, to)) or Phrase(
        "errors.episode.is_already" if current == to else "errors.episode.is", status=current.word
    )
    raise Conflict(
        "errors.episode.cannot_become",
        current=Phrase(f"errors.episode.a_{current.value}"),
        to=Phrase(f"errors.episode.to_{to.value}"),
        reason=reason,
    )


def is_editable(status: EpisodeStatus) -> bool:
    """Only an episode that has not aired (or been cancelled) can be moved or changed."""
    return status == EpisodeStatus.SCHEDULED
