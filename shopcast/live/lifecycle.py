"""An episode's life: scheduled → live → ended, or cancelled before it airs."""

from __future__ import annotations

from enum import StrEnum

from shopcast.core.errors import Conflict


class EpisodeStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


ALLOWED = {
    EpisodeStatus.SCHEDULED: {EpisodeStatus.LIVE, EpisodeStatus.CANCELLED},
    EpisodeStatus.LIVE: {EpisodeStatus.ENDED},
    EpisodeStatus.ENDED: set(),
    EpisodeStatus.CANCELLED: set(),
}

_WHY = {
    (EpisodeStatus.SCHEDULED, EpisodeStatus.ENDED): "the episode has not gone live yet",
    (EpisodeStatus.LIVE, EpisodeStatus.CANCELLED): "the episode is live: end it instead",
    (EpisodeStatus.LIVE, EpisodeStatus.LIVE): "the episode is already live",
    (EpisodeStatus.ENDED, EpisodeStatus.LIVE): "the episode has ended and cannot go live again",
    (EpisodeStatus.CANCELLED, EpisodeStatus.LIVE): "the episode was cancelled",
}


def check_transition(current: EpisodeStatus, to: EpisodeStatus) -> None:
    """Raise 409 with the reason when `current` cannot become `to`."""
    if to in ALLOWED[current]:
        return
    already = "already " if current == to else ""
    reason = _WHY.get((current, to), f"the episode is {already}{current.value}")
    article = "an" if current.value[0] in "aeiou" else "a"
    raise Conflict(f"cannot make {article} {current.value} episode {to.value}: {reason}")


def is_editable(status: EpisodeStatus) -> bool:
    """Only an episode that has not aired (or been cancelled) can be moved or changed."""
    return status == EpisodeStatus.SCHEDULED
