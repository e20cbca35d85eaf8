"""`shopcast giveaway verify`: a real proof from the API checks out; a tampered one says what differs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.contests.conftest import Giveaways, Join, write_proof
from tests.test_cli import shopcast


def altered(entry_id: str) -> str:
    """The id with its last digit changed: another entry, sorted in the same place."""
    return entry_id[:-1] + ("0" if entry_id[-1] != "0" else "1")


async def drawn_proof(giveaways: Giveaways, join: Join) -> dict[str, Any]:
    viewers = [await join(name) for name in ("Lea", "Tom", "Zoe", "Max", "Ana")]
    giveaway = await giveaways.opened(winners=2)
    for viewer in viewers:
        await giveaways.enter(viewer, giveaway)
    await giveaways.done(giveaway, "close")
    await giveaways.done(giveaway, "draw")
    return await giveaways.proof(giveaway)


async def test_a_proof_from_the_api_verifies_and_any_tampering_fails(
    giveaways: Giveaways, join: Join, tmp_path: Path
) -> None:
    proof = await drawn_proof(giveaways, join)
    code, out, err = await shopcast("giveaway", "verify", "--proof", str(write_proof(tmp_path, proof)), env={})
    assert code == 0, (out, err)
    assert "the draw: 5 eligible entry ids, sorted, no duplicates" in out and "winners match" in out

    drawn = proof["rounds"][0]
    # A winner's entry id changed in the list (in its place): the recomputed winners name the new id.
    # (A loser's id changed in place leaves the winners as they were: that one is for its viewer to
    # notice, who sees their own entry id and finds it missing from the list.)
    one_entry_changed = copy.deepcopy(proof)
    changed = altered(drawn["winners"][0])
    listed = [changed if e == drawn["winners"][0] else e for e in drawn["eligible_entry_ids"]]
    assert listed == sorted(listed)
    one_entry_changed["rounds"][0]["eligible_entry_ids"] = listed
    losers = [e for e in drawn["eligible_entry_ids"] if e not in drawn["winners"]]
    seed_changed = {**proof, "seed": ("0" if proof["seed"][0] != "0" else "1") + proof["seed"][1:]}
    winner_swapped = copy.deepcopy(proof)
    winner_swapped["rounds"][0]["winners"] = [losers[0], drawn["winners"][1]]
    order_swapped = copy.deepcopy(proof)
    order_swapped["rounds"][0]["winners"] = drawn["winners"][::-1]
    for name, tampered, says in (
        ("entry", one_entry_changed, changed),
        ("seed", seed_changed, "is not sha256(seed)"),
        ("winner", winner_swapped, f"differ from the recomputed {drawn['winners']}"),
        ("order", order_swapped, "differ from the recomputed"),
    ):
        code, out, err = await shopcast(
            "giveaway", "verify", "--proof", str(write_proof(tmp_path, tampered, name)), env={}
        )
        assert code == 1, (name, out, err)
        assert "MISMATCH" in out and says in out, (name, out)
        assert "does NOT match" in err


async def test_a_file_that_is_not_a_proof_is_refused_with_the_reason(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    code, _, err = await shopcast("giveaway", "verify", "--proof", str(garbage), env={})
    assert code == 1 and "not JSON" in err
    code, _, err = await shopcast("giveaway", "verify", "--proof", str(tmp_path / "missing.json"), env={})
    assert code == 1 and "No such file" in err
    code, _, err = await shopcast("giveaway", "verify", env={})
    assert code == 2 and "--proof" in err
