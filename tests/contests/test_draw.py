"""`shopcast-draw-v1` as docs/api.md writes it: deterministic, fair, and checked offline."""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from collections import Counter

from shopcast.contests.draw import ALGORITHM, commitment, draw_round, new_seed, verify

_IDS = random.Random(7)
ENTRIES = sorted(str(uuid.UUID(int=_IDS.getrandbits(128), version=4)) for _ in range(10))
CHI_SQUARE_9_DF_AT_0_001 = 27.877  # the 99.9 % quantile of chi-square with 9 degrees of freedom


def documented_draw(seed: str, eligible: list[str], r: int, k: int) -> list[str]:
    """The function exactly as the docs write it, to hold the implementation to them."""
    remaining, picked, c = list(eligible), [], 0
    while len(picked) < k and remaining:
        x = int.from_bytes(hmac.new(bytes.fromhex(seed), f"{r}:{c}".encode(), hashlib.sha256).digest(), "big")
        n = len(remaining)
        if x < (2**256 // n) * n:
            picked.append(remaining.pop(x % n))
        c += 1
    return picked


def proof(seed: str, eligible: list[str], prizes: int) -> dict:
    return {
        "giveaway_id": str(uuid.uuid4()),
        "commitment": commitment(seed),
        "seed": seed,
        "algorithm": ALGORITHM,
        "rounds": [
            {
                "round": 0,
                "prizes": prizes,
                "eligible_entry_ids": eligible,
                "winners": draw_round(seed, eligible, round=0, prizes=prizes),
            }
        ],
    }


def test_the_same_seed_and_entries_give_the_same_winners() -> None:
    seed = new_seed()
    first = draw_round(seed, ENTRIES, round=0, prizes=3)
    assert first == draw_round(seed, ENTRIES, round=0, prizes=3)
    assert len(set(first)) == 3 and set(first) <= set(ENTRIES)
    assert draw_round(seed, ENTRIES, round=0, prizes=1) == first[:1]  # fewer prizes: the first picks


def test_the_implementation_is_the_documented_function() -> None:
    rng = random.Random(15)
    for _ in range(200):
        seed = rng.randbytes(32).hex()
        eligible = ENTRIES[: rng.randint(1, len(ENTRIES))]
        r, k = rng.randint(0, 3), rng.randint(1, 12)
        assert draw_round(seed, eligible, round=r, prizes=k) == documented_draw(seed, eligible, r, k)


def test_a_known_vector() -> None:
    # Anyone reimplementing docs/api.md can check themselves against this.
    seed = "00" * 32
    eligible = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(5)]
    assert commitment(seed) == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    assert draw_round(seed, eligible, round=0, prizes=2) == [eligible[2], eligible[3]]


def test_more_prizes_than_entries_gives_everyone_a_prize() -> None:
    assert sorted(draw_round(new_seed(), ENTRIES[:3], round=0, prizes=5)) == ENTRIES[:3]
    assert draw_round(new_seed(), [], round=0, prizes=5) == []


def test_a_thousand_draws_give_every_entry_its_fair_share() -> None:
    rng = random.Random(2026)  # the test's own randomness is seeded: it cannot flake
    draws = 1000
    firsts: Counter[str] = Counter()
    all_three: Counter[str] = Counter()
    for _ in range(draws):
        winners = draw_round(rng.randbytes(32).hex(), ENTRIES, round=0, prizes=3)
        firsts[winners[0]] += 1
        all_three.update(winners)
    for counts, total in ((firsts, draws), (all_three, 3 * draws)):
        expected = total / len(ENTRIES)
        chi_square = sum((counts[e] - expected) ** 2 / expected for e in ENTRIES)
        assert chi_square < CHI_SQUARE_9_DF_AT_0_001, (chi_square, counts)
    # And the test can tell a biased draw: always favouring the first entry fails it.
    biased = Counter({e: 100 for e in ENTRIES}) + Counter({ENTRIES[0]: 50})
    biased.subtract({ENTRIES[1]: 50})
    assert sum((biased[e] - 100) ** 2 / 100 for e in ENTRIES) > CHI_SQUARE_9_DF_AT_0_001


def test_a_true_proof_verifies() -> None:
    verdict = verify(proof(new_seed(), ENTRIES, 2))
    assert verdict.ok, verdict.problems
    assert any("commitment" in line for line in verdict.checked)


def test_a_tampered_proof_fails_and_says_what_differs() -> None:
    good = proof("ab" * 32, ENTRIES, 2)
    winner = good["rounds"][0]["winners"][0]
    in_its_place = [e[:-1] + "f" if e == winner else e for e in ENTRIES]  # a winner's id changed, same order
    assert winner[-1] != "f" and in_its_place == sorted(in_its_place)
    changed_entry = {**good, "rounds": [{**good["rounds"][0], "eligible_entry_ids": in_its_place}]}
    other_seed = {**good, "seed": "cd" * 32}
    loser = next(e for e in ENTRIES if e not in good["rounds"][0]["winners"])
    swapped = {**good, "rounds": [{**good["rounds"][0], "winners": [loser, good["rounds"][0]["winners"][1]]}]}
    unsorted = {**good, "rounds": [{**good["rounds"][0], "eligible_entry_ids": ENTRIES[::-1]}]}
    for bad, reason in (
        (changed_entry, "differ from the recomputed"),
        (other_seed, "is not sha256(seed)"),
        (swapped, "differ from the recomputed"),
        (unsorted, "not sorted"),
        ({**good, "seed": None}, "not revealed"),
    ):
        verdict = verify(bad)
        assert not verdict.ok and any(reason in p for p in verdict.problems), verdict.problems
