// An episode's live room over Socket.IO, shared by the watch page and the studio: join, keep the
// room's events in order by `seq`, catch up after a reconnect or a gap, send events and read their acks.
// The contract is docs/api.md, "The live room (Socket.IO)" and "Realtime events".

import { io } from "socket.io-client";
import { lang, t } from "./i18n.js";

// Passing state: these carry the room's latest seq (not a new one), so they never show a gap.
const STATE_EVENTS = new Set(["presence:count", "chat:reactions", "sales:bought", "poll:tally", "giveaway:entries"]);
const ACK_TIMEOUT_MS = 10_000;
const REJOIN_AFTER_MS = 2_000;
const CATCH_UP_EVERY_MS = 1_000; // at most, should the server keep skipping numbers
// A join the server could not take just now (busy): tried again after the server's `retry_after`,
// or after a wait that doubles with each refusal in a row, whichever is longer.
const BUSY_FIRST_WAIT_MS = 1_000;
const BUSY_LONGEST_WAIT_MS = 30_000;

/** What a page says about the room's connection while it is not live. */
export const STATUS_TEXT = {
  connecting: t("room.connecting"),
  reconnecting: t("room.reconnecting"),
  waiting: t("room.busy"),
};

const OFFLINE = {
  type: "urn:shopcast:problem:offline",
  title: t("room.offline"),
  status: 0,
  detail: t("room.offline_detail"),
};

/**
 * Whether a refused join may be let in later: busy (503) or too fast (429), or the server failed (5xx).
 * Every other refusal is final (banned, unknown episode, bad data): joining again would change nothing.
 */
function passing(error) {
  const status = error?.status;
  return status === 429 || status >= 500;
}

/**
 * Opens the room of `episodeId` with `token` (null to only watch) and calls, in the room's order:
 * - `onSnapshot(snapshot)`: a fresh state (first join, or when the missed events are no longer kept);
 * - `onEvent(event, data)`: a room event with its `seq`, each exactly once;
 * - `onState(event, data)`: passing state (`presence:count`, `chat:reactions`, `sales:bought`,
 *   `poll:tally`, `giveaway:entries`);
 * - `onStatus(status, detail)`: "connecting" | "live" | "reconnecting", "waiting" (the server is too busy
 *   to let this page in just now: it joins again by itself; detail is the ack's error, or null without
 *   an ack), "refused" (the token was refused; detail is the reason) or "denied" (the join was refused
 *   for good; detail is the ack's error).
 */
export class LiveRoom {
  constructor(episodeId, { token, onSnapshot, onEvent, onState = () => {}, onStatus = () => {} }) {
    this.episodeId = episodeId;
    this.token = token;
    this.handlers = { onSnapshot, onEvent, onState, onStatus };
    this.seq = 0;
    this.synced = false; // has had a snapshot: from then on a rejoin asks for what it missed
    this.joined = false;
    this.buffer = null; // events that arrive while a join is under way
    this.joins = 0;
    this.rejoinTimer = 0;
    this.lastJoin = 0;
    this.busyJoins = 0; // joins refused as busy in a row
    this.waiters = new Set(); // whenJoined() calls waiting for the next join
    this.socket = io({
      path: "/socket.io/",
      // WebSocket first: its session lives on the process its connection reached, whichever of the
      // workers or replicas that is. Long-polling (kept in one process's memory, so passed on to it
      // from wherever a poll lands) only where WebSocket cannot open.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      // Read at each (re)connection, so a renewed sign-in is used without a new room. No token:
      // a viewer who only watches (reads, reacts, is counted). `lang`: the page's, for the reasons
      // of refused events (the acks' errors).
      auth: (send) => send(this.token ? { token: this.token, lang } : { lang }),
      autoConnect: false,
    });
    this.socket.on("connect", () => this.join());
    this.socket.on("disconnect", (reason) => {
      this.joined = false;
      this.buffer = null;
      clearTimeout(this.rejoinTimer);
      if (reason === "io client disconnect") return; // this page closed it, and said why
      this.status("reconnecting");
      // The client reconnects by itself, except when the server hung up on purpose (a restart, a
      // deploy): then a little later, so that a whole audience does not come back at once.
      if (reason === "io server disconnect") {
        this.rejoinTimer = setTimeout(() => this.socket.connect(), REJOIN_AFTER_MS + Math.random() * 3_000);
      }
    });
    this.socket.on("connect_error", (error) => {
      // Inactive means the server refused the token; otherwise the client retries by itself.
      if (this.socket.active) this.status("reconnecting");
      else this.status("refused", error.message);
    });
    this.socket.onAny((event, data) => this.receive(event, data));
    this.status("connecting");
    this.socket.connect();
  }

  /** Connect again with another token (after signing in again, or picking a nickname). */
  reconnectWith(token) {
    this.token = token;
    this.synced = false; // someone else now: a fresh snapshot says who (`you`)
    this.socket.disconnect();
    this.status("connecting");
    this.socket.connect();
  }

  close() {
    clearTimeout(this.rejoinTimer);
    this.joins += 1;
    this.joined = false;
    this.socket.disconnect();
  }

  /**
   * Send a client event for this episode; resolves with its ack (`{ok: true, …}` or
   * `{ok: false, error}`), never rejects. Nothing is queued while offline: a message sent later
   * than the person saw it fail would surprise them.
   */
  async send(event, data = {}) {
    if (!this.joined) return { ok: false, error: OFFLINE };
    try {
      return await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, { episode_id: this.episodeId, ...data });
    } catch {
      return { ok: false, error: { ...OFFLINE, detail: t("room.no_answer") } };
    }
  }

  /** Resolves true once the room is joined (at once if it is); false when refused, or after `ms`. */
  whenJoined(ms = ACK_TIMEOUT_MS) {
    if (this.joined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (joined) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(joined);
      };
      const timer = setTimeout(() => waiter(false), ms);
      this.waiters.add(waiter);
    });
  }

  status(status, detail = "") {
    this.handlers.onStatus(status, detail);
    const settled = status === "live" ? true : status === "refused" || status === "denied" ? false : null;
    if (settled !== null) for (const waiter of [...this.waiters]) waiter(settled);
  }

  async join() {
    const attempt = ++this.joins;
    clearTimeout(this.rejoinTimer);
    this.lastJoin = Date.now();
    this.buffer ??= []; // after a gap it holds the event that showed it
    const request = this.synced ? { episode_id: this.episodeId, last_seq: this.seq } : { episode_id: this.episodeId };
    let ack;
    try {
      ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("join", request);
    } catch {
      ack = null;
    }
    if (attempt !== this.joins || !this.socket.connected) return; // a newer join or a disconnect took over
    if (!ack || (!ack.ok && passing(ack.error))) {
      this.joinLater(ack?.error ?? null);
      return;
    }
    this.busyJoins = 0;
    const early = this.buffer;
    this.buffer = null;
    if (!ack.ok) {
      this.joined = false;
      this.status("denied", ack.error);
      this.socket.disconnect();
      return;
    }
    if (ack.snapshot) {
      this.seq = ack.seq;
      this.synced = true;
      this.handlers.onSnapshot(ack.snapshot);
    } else {
      for (const missed of ack.missed || []) this.apply(missed.event, { ...missed.payload, seq: missed.seq });
      this.seq = Math.max(this.seq, ack.seq);
    }
    this.joined = true;
    this.status("live");
    // What came before the ack: only what the snapshot or the missed events do not already hold.
    for (const [event, data] of early) {
      if (data?.seq > ack.seq) this.receive(event, data);
    }
  }

  /**
   * Not let in yet (a rush: the server is busy, or did not answer in time): join again, the same way
   * (with `last_seq` after a reconnect), when the server says, later with each refusal in a row, and
   * at a random moment within half the wait more, so that a whole audience does not come back at once.
   */
  joinLater(error) {
    this.joined = false;
    this.buffer = null;
    const told = Math.max(0, Number(error?.retry_after) || 0) * 1000;
    const wait = Math.max(told, Math.min(BUSY_LONGEST_WAIT_MS, BUSY_FIRST_WAIT_MS * 2 ** this.busyJoins));
    this.busyJoins += 1;
    this.status("waiting", error);
    this.rejoinTimer = setTimeout(() => this.socket.connected && this.join(), wait + Math.random() * (wait / 2));
  }

  receive(event, data) {
    if (this.buffer) {
      this.buffer.push([event, data]);
      return;
    }
    if (!this.joined) return;
    if (STATE_EVENTS.has(event)) {
      this.handlers.onState(event, data);
      return;
    }
    const seq = data?.seq;
    if (typeof seq !== "number" || seq <= this.seq) return; // seen already
    if (seq > this.seq + 1) this.catchUp(event, data);
    else this.apply(event, data);
  }

  /** Something was lost on the way (a slow connection was cut short): ask for it, keep this one. */
  catchUp(event, data) {
    this.buffer = [[event, data]];
    const wait = this.lastJoin + CATCH_UP_EVERY_MS - Date.now();
    if (wait <= 0) this.join();
    else this.rejoinTimer = setTimeout(() => this.socket.connected && this.join(), wait);
  }

  apply(event, data) {
    if (data.seq <= this.seq) return;
    this.seq = data.seq;
    this.handlers.onEvent(event, data);
  }
}
