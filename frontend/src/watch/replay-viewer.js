// The replay counts its viewers from their players (docs/api.md, "Replay viewers"): while the
// recording plays, a beat every few seconds (as often as the server says), none while it is paused or
// waiting for data; and each product card shown over the video, once per pin. A viewer without a token
// becomes a nameless guest as the replay first plays, the identity their cart will have: a page opened
// and never played counts nowhere (link previews, a glance at a shared moment).

import { ApiError, api } from "../shared/api.js";

const FIRST_BEAT_SECONDS = 15; // until the first answer says the server's interval

/**
 * Counts the viewer of the replay playing in `video`; `signedIn()` resolves once the viewer has a
 * token (chat.js). Returns `{cardViewed(pinId)}`, for the stage's cards.
 */
export function countReplayViewer({ episodeId, video, signedIn }) {
  let every = FIRST_BEAT_SECONDS;
  let timer = 0;
  let beating = false; // a beat is on its way: the next one is scheduled from its answer
  let lastAnswer = -Infinity; // performance.now() when the last beat was answered
  let stopped = false; // the server counts no more (the whole recording was counted, or no replay)
  let resumed = true; // the recording did not play since the last beat: a new stretch of watching
  let identified = false;
  const cards = new Set();
  const untold = [];

  const playing = () => !video.paused && !video.ended; // waiting for data stops it too (`waiting`)

  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(0, seconds * 1000));
  }

  /** Played on: the next beat one interval after the last answer (never sooner, so never refused). */
  function onPlaying() {
    if (!stopped && !timer && !beating) schedule((lastAnswer + every * 1000 - performance.now()) / 1000);
  }

  function onStopped() {
    resumed = true;
    clearTimeout(timer);
    timer = 0;
  }

  async function tick() {
    timer = 0;
    if (stopped || beating || !playing()) return; // the next `playing` starts again
    beating = true;
    const afterPause = resumed;
    resumed = false;
    let next = every;
    try {
      await signedIn();
      identified = true;
      tellCards();
      const answer = await api.replayBeat(episodeId, afterPause);
      every = answer.beat_seconds;
      next = every;
      stopped = !answer.counting;
    } catch (error) {
      resumed ||= afterPause; // not counted: the next beat starts the stretch
      if (error instanceof ApiError && error.status === 429) next = Number(error.problem?.retry_after) || every;
      // No replay to count (409), or the token was refused: nothing more to say. A network failure: later.
      else if (error instanceof ApiError && error.status >= 400 && error.status < 500) stopped = true;
    } finally {
      beating = false;
    }
    lastAnswer = performance.now();
    if (!stopped && playing()) schedule(next);
  }

  function tellCards() {
    while (identified && untold.length) {
      api.replayCardViewed(episodeId, untold.shift()).catch(() => {}); // a card view lost is a figure, not an error
    }
  }

  video.addEventListener("playing", onPlaying);
  for (const name of ["pause", "ended", "waiting", "emptied"]) video.addEventListener(name, onStopped);
  if (playing()) onPlaying();

  return {
    /** The replay showed this pin's card: told once per pin, as soon as the viewer is counted. */
    cardViewed(pinId) {
      if (cards.has(pinId)) return;
      cards.add(pinId);
      untold.push(pinId);
      tellCards();
    },
  };
}
