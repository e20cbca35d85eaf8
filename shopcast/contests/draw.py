"""The verifiable draw, `shopcast-draw-v1`: winners as a pure function of a committed seed and the
sorted eligible entry ids, and the offline check of a published proof (docs/api.md, "Giveaways").

The seed is drawn when entries open and only its SHA-256 is published then; it is revealed at the
draw. Since the seed is fixed before any entry exists and the winners follow from it and the
eligible list alone, nobody can pick winners by choosing the seed once the entries are known.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

ALGORITHM = "shopcast-draw-v1"
SEED_BYTES = 32
_SPAN = 2**256
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_seed() -> str:
    """A fresh secret seed: 32 random bytes, as 64 lowercase hex digits."""
    return secrets.token_bytes(SEED_BYTES).hex()


def commitment(seed: str) -> str:
    """What is published before the draw: the SHA-256 of the seed's 32 bytes, in hex."""
    return hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def draw_round(seed: str, eligible: list[str], *, round: int, prizes: int) -> list[str]:
    """The winners of one round: `prizes` entries picked from `eligible` (sorted canonical ids)."""
    key = bytes.fromhex(seed)
    remaining = list(eligible)
    winners: list[str] = []
    counter = 0
    while len(winners) < prizes and remaining:
        n = len(remaining)
        digest = hmac.new(key, f"{round}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
        x = int.from_bytes(digest, "big")
        # Rejection sampling: without it the first (2**256 mod n) entries would be a little likelier.
        if x >= (_SPAN // n) * n:
            continue
        winners.append(remaining.pop(x % n))
    return winners


@dataclass
class Verdict:
    """What checking a proof found: each check made, and each one that failed."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(proof: Any) -> Verdict:
    """Recompute a published proof offline: the commitment, each round's eligible list and winners."""
    verdict = Verdict()
    if not isinstance(proof, dict):
        verdict.problems.append("the proof is not a JSON object")
        return verdict
    if proof.get("algorithm") != ALGORITHM:
        verdict.problems.append(f"algorithm is {proof.get('algorithm')!r}, not {ALGORITHM!r}")
        return verdict
    seed, committed = proof.get("seed"), proof.get("commitment")
    if not isinstance(seed, str) or not re.fullmatch(r"[0-9a-f]{64}", seed):
        verdict.problems.append("the seed is not revealed (64 hex digits): the giveaway is not drawn yet")
        return verdict
    if commitment(seed) != committed:
        verdict.problems.append(f"commitment {committed} is not sha256(seed) = {commitment(seed)}")
    else:
        verdict.checked.append(f"commitment {committed} = sha256(seed)")
    rounds = proof.get("rounds")
    if not isinstance(rounds, list) or not rounds:
        verdict.problems.append("the proof has no round")
        return verdict
    first: list[str] = []
    earlier_winners: list[str] = []
    for index, shown in enumerate(rounds):
        if not _check_round(verdict, seed, index, shown, first, earlier_winners):
            return verdict
        if index == 0:
            first = list(shown["eligible_entry_ids"])
        earlier_winners += shown["winners"]
    return verdict


def _check_round(
    verdict: Verdict, seed: str, index: int, shown: Any, first: list[str], earlier_winners: list[str]
) -> bool:
    """Check one round into `verdict`; False when the round cannot even be read."""
    if not isinstance(shown, dict) or shown.get("round") != index:
        verdict.problems.append(f"rounds[{index}] is not round {index}")
        return False
    eligible, winners, prizes = shown.get("eligible_entry_ids"), shown.get("winners"), shown.get("prizes")
    if not _ids(eligible) or not _ids(winners) or not isinstance(prizes, int) or prizes < 1:
        verdict.problems.append(f"round {index}: eligible_entry_ids, winners (entry ids) and prizes (≥ 1) are needed")
        return False
    name = "the draw" if index == 0 else f"redraw {index}"
    if not all(_CANONICAL_UUID.match(i) for i in eligible):
        verdict.problems.append(f"{name}: an eligible id is not a lowercase UUID")
    if eligible != sorted(set(eligible)):
        verdict.problems.append(f"{name}: the eligible entry ids are not sorted ascending without duplicates")
    else:
        verdict.checked.append(f"{name}: {len(eligible)} eligible entry ids, sorted, no duplicates")
    if index > 0:
        expected = sorted(set(first) - set(earlier_winners))
        if eligible != expected:
            verdict.problems.append(f"{name}: the eligible ids are not the draw's minus every earlier winner")
        else:
            verdict.checked.append(
                f"{name}: eligible = the draw's eligible minus {len(earlier_winners)} earlier winners"
            )
    recomputed = draw_round(seed, eligible, round=index, prizes=prizes)
    if winners != recomputed:
        verdict.problems.append(f"{name}: winners {winners} differ from the recomputed {recomputed}")
    else:
        verdict.checked.append(f"{name}: {len(winners)} of {prizes} prizes, winners match: {', '.join(winners)}")
    return True


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, str) for i in value)
