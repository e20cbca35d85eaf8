// shopcast-draw-v1 in the browser (docs/api.md, "Giveaways"), so a viewer's own browser can check a
// draw: the commitment is the SHA-256 of the seed, and each round's winners follow from the seed and
// the sorted eligible entry ids alone. `shopcast giveaway verify` checks the same offline.

import { locale, t } from "../shared/i18n.js";

export const ALGORITHM = "shopcast-draw-v1";
const SPACE = 2n ** 256n;

function bytesOf(hex) {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) throw new Error(t("draw.not_hex"));
  return Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));
}

function hexOf(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether this browser can check (WebCrypto exists only on https pages and 127.0.0.1). */
export const canCheck = () => Boolean(globalThis.crypto?.subtle);

export async function sha256Hex(hex) {
  return hexOf(await crypto.subtle.digest("SHA-256", bytesOf(hex)));
}

/** The `k` winners of round `round` among `eligible` (sorted entry ids), in the order drawn. */
export async function drawWinners(seedHex, round, eligible, k) {
  const key = await crypto.subtle.importKey("raw", bytesOf(seedHex), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const remaining = [...eligible];
  const winners = [];
  const encoder = new TextEncoder();
  for (let counter = 0; winners.length < k && remaining.length > 0; counter += 1) {
    const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${round}:${counter}`));
    const x = BigInt(`0x${hexOf(mac)}`);
    const n = BigInt(remaining.length);
    if (x >= (SPACE / n) * n) continue; // rejection sampling: every entry exactly as likely
    winners.push(remaining.splice(Number(x % n), 1)[0]);
  }
  return winners;
}

const sortedAndUnique = (ids) => ids.every((id, i) => i === 0 || ids[i - 1] < id);

/**
 * Check a proof (`GET /api/v1/public/giveaways/{id}/proof`): a list of `{what, ok}` in the order a
 * person would check them.
 */
export async function checkProof(proof) {
  const checks = [];
  if (!proof.seed) return [{ what: t("draw.no_seed"), ok: null }];
  checks.push({
    what: t("draw.commitment"),
    ok: (await sha256Hex(proof.seed)) === proof.commitment,
  });
  checks.push({ what: t("draw.algorithm", { algorithm: ALGORITHM }), ok: proof.algorithm === ALGORITHM });
  const earlier = new Set();
  let first = null;
  for (const round of proof.rounds) {
    const eligible = round.eligible_entry_ids;
    // A redraw draws among the draw's eligible entries minus every earlier winner.
    const expected = first && first.filter((id) => !earlier.has(id));
    checks.push({
      what:
        first === null
          ? t("draw.sorted", { count: eligible.length, n: eligible.length.toLocaleString(locale) })
          : t("draw.redraw", { round: round.round }),
      ok: sortedAndUnique(eligible) && (expected === null || expected.join() === eligible.join()),
    });
    first ??= eligible;
    const k = round.prizes ?? round.winners.length;
    const again = await drawWinners(proof.seed, round.round, eligible, k);
    checks.push({
      what: t("draw.same", { round: round.round, count: k }),
      ok: again.length === round.winners.length && again.every((id, i) => id === round.winners[i]),
    });
    for (const id of round.winners) earlier.add(id);
  }
  return checks;
}
