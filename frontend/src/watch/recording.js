// The recording's clock: which second of the replay a wall-clock moment of the live is. Pins, chat
// messages, polls and draws were stamped by the server's clock; the replay's segments say when their
// first picture reached the server (#EXT-X-PROGRAM-DATE-TIME, written by shopcast/live/hls_clock.py).
// Within a segment time runs on; a moment before the first picture is the start, a moment while the
// host's connection was down (between two segments) is the picture that followed.
// A recording made before the segments were dated counts from the moment the episode went live.

/** The recording of `playlist` (the replay's index.m3u8); `wentLiveAt` (ISO) when it has no dates. */
export function readRecording(playlist, { wentLiveAt = null } = {}) {
  const segments = [];
  let start = 0;
  let duration = 0;
  let at = NaN;
  for (const line of playlist.split(/\r?\n/)) {
    if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8)) || 0;
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) at = Date.parse(line.slice(25));
    else if (line && !line.startsWith("#")) {
      const previous = segments.at(-1);
      // Undated: straight on from the segment before, or from the start of the live.
      if (Number.isNaN(at)) at = previous ? previous.at + previous.duration * 1000 : Date.parse(wentLiveAt ?? "") || 0;
      segments.push({ start, duration, at });
      start += duration;
      duration = 0;
      at = NaN;
    }
  }
  return new Recording(segments, start);
}

export class Recording {
  constructor(segments, duration) {
    this.segments = segments;
    /** Seconds. */
    this.duration = duration;
  }

  /** The second of the replay showing the live at `moment` (an ISO date-time or milliseconds). */
  timeOf(moment) {
    const ms = typeof moment === "number" ? moment : Date.parse(moment);
    let low = 0;
    let high = this.segments.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.segments[middle].at <= ms) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found < 0 || Number.isNaN(ms)) return 0;
    const segment = this.segments[found];
    return segment.start + Math.min(Math.max(0, (ms - segment.at) / 1000), segment.duration);
  }

  /** `?t=` as a start: a second inside the recording, else its beginning (0). */
  startAt(asked) {
    if (asked === null || asked === undefined || String(asked).trim() === "") return 0;
    const seconds = Number(asked);
    return Number.isFinite(seconds) && seconds >= 0 && seconds < this.duration ? seconds : 0;
  }
}
