// The giveaway entries made in this browser, kept so the replay page can point out the viewer's own
// entry in a draw's proof (the room tells it during the live; after, only this browser knows).

const KEY = "shopcast.entries";
const KEEP = 200;

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

/** Remember that this browser entered `giveawayId` (of `episodeId`) with `entryId`. */
export function rememberEntry(episodeId, giveawayId, entryId) {
  const kept = load().filter((e) => e.giveaway_id !== giveawayId);
  kept.unshift({ episode_id: episodeId, giveaway_id: giveawayId, entry_id: entryId });
  try {
    localStorage.setItem(KEY, JSON.stringify(kept.slice(0, KEEP)));
  } catch {
    // Storage full or refused: the page still shows the entry while it is open.
  }
}

/** `[{giveaway_id, entry_id}]` this browser made in `episodeId`. */
export function entriesOf(episodeId) {
  return load().filter((e) => e.episode_id === episodeId);
}

/** This browser's entry id in `giveawayId`, or null. */
export function entryIn(giveawayId) {
  return load().find((e) => e.giveaway_id === giveawayId)?.entry_id ?? null;
}
