// The viewers' chat beside the show: messages, replies, "ask the host", the pinned message,
// reactions and the viewer count, from the episode's live room. Watching needs no sign-in (the room
// is joined without a token: read, react, be counted); writing needs a nickname (a guest token), or
// the staff sign-in of this tab. Buying, voting and entering a giveaway need a token too: a viewer
// without one becomes a nameless guest the first time, silently, and picking a nickname later names
// that same guest.

import { api, messageOf, sentence, useToken as useApiToken } from "../shared/api.js";
import { chatPanel, renderPinned } from "../shared/chat.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { ReactionBar } from "../shared/reactions.js";
import { LiveRoom, STATUS_TEXT } from "../shared/room.js";
import { forgetGuest, joinAsGuest, savedGuest, savedSession } from "../shared/session.js";
import { locale, t } from "../shared/i18n.js";

const REPLAY_MESSAGES = 300;

/**
 * Sets up the chat panel of the watch page; `onEpisodeEvent()` runs when the show starts or ends.
 * The room's other events go to `onRoomSnapshot(snapshot)` and `onRoomEvent(event, data)` (the shop's,
 * polls' and giveaways'); `onSentAck(ack)` gets the ack of each message this viewer sent.
 */
export function setUpChat({
  episodeId,
  onEpisodeEvent,
  onRoomSnapshot = () => {},
  onRoomEvent = () => {},
  onSentAck = () => {},
}) {
  const ui = byTestIds([
    "chat",
    "chat-status",
    "pinned",
    "reactions",
    "reaction-layer",
    "chat-slow-mode",
    "chatting-as",
    "nickname-form",
    "nickname-error",
    "nickname-submit",
    "chat-removed",
    "chat-closed",
    "viewer-count",
  ]);

  let room = null;
  let token = null; // null: watching only
  let name = ""; // "" with a token: a nameless guest (votes, enters, buys; picks a nickname to chat)
  let you = null;
  let removed = false;
  let episodeOpen = true; // the chat takes messages before and during the show
  let replayLoaded = false; // after the show: the chat is shown (whole, or played with the replay)

  const { chat, composer, form } = chatPanel({
    room: () => room,
    onSent: (_message, ack) => onSentAck(ack),
    decorate: (node, message) => {
      node.append(
        el("button", {
          type: "button",
          class: "chat-reply",
          "data-testid": "reply",
          "aria-label": t("chat.reply_to", { name: message.author.name }),
          text: t("chat.reply"),
          onclick: () => composer.setReply(message),
        }),
      );
    },
  });
  const reactions = new ReactionBar({
    bar: ui.reactions,
    layer: ui.reactionLayer,
    room: () => room,
    onError: (text) => composer.showError(text),
  });

  function setStatus(text) {
    ui.chatStatus.textContent = text;
    show(ui.chatStatus, Boolean(text));
  }

  // "N watching" is a live figure: before the show and on the replay it would mislead.
  let episodeLive = false;
  let viewersKnown = false;

  function renderViewers(count) {
    viewersKnown = true;
    const n = count.toLocaleString(locale);
    ui.viewerCount.textContent = t("chat.watching", { count, n });
    ui.viewerCount.setAttribute("aria-label", t("chat.viewers_watching", { count, n }));
    show(ui.viewerCount, episodeLive);
  }

  function renderSlowMode(seconds) {
    composer.slowSeconds = seconds;
    ui.chatSlowMode.textContent = seconds > 0 ? t("chat.slow_mode_note", { seconds }) : "";
    show(ui.chatSlowMode, seconds > 0);
  }

  function setCanChat(can) {
    composer.setOnline(can);
    reactions.setEnabled(can);
  }

  /** Which of the nickname form, the box to write in, or neither. */
  function renderForms() {
    const open = episodeOpen && !removed;
    show(form, open && Boolean(token && name));
    show(ui.nicknameForm, open && !(token && name));
    show(ui.chatClosed, !episodeOpen && !removed);
    ui.chat.toggleAttribute("data-closed", !episodeOpen);
  }

  function setEpisodeStatus(status) {
    episodeOpen = status === "scheduled" || status === "live";
    episodeLive = status === "live";
    show(ui.viewerCount, episodeLive && viewersKnown);
    ui.chatClosed.textContent =
      status === "cancelled" ? t("chat.closed_cancelled") : t("chat.closed_ended");
    renderForms();
    // The room is opened once the page knows the show is not over; after it, the page says how the
    // chat is shown (showHistory, or played in step with the replay).
    if (room || replayLoaded) return;
    if (episodeOpen) room = new LiveRoom(episodeId, { token, ...handlers });
  }

  /** After a show with no replay to play: its chat as the replay keeps it, from its start. */
  async function showHistory(tries = 0) {
    if (replayLoaded) return;
    replayLoaded = true;
    chat.empty.textContent = t("chat.empty_after");
    try {
      chat.load(await api.replayChat(episodeId, REPLAY_MESSAGES), null);
    } catch {
      replayLoaded = false; // a few more tries, a little later
      if (tries < 3) setTimeout(() => showHistory(tries + 1), 5000);
    }
  }

  /** A viewer without a token becomes a nameless guest (to buy, vote, enter or be counted watching the
   * replay); asked twice at once (the replay starts playing as they tap "Add to cart"), one guest. */
  let becomingGuest = null;
  async function signedIn() {
    if (token) return;
    becomingGuest ??= joinAsGuest(null)
      .then((guest) => useToken(guest.token, guest.name))
      .finally(() => (becomingGuest = null));
    await becomingGuest;
  }

  function showRemoved(text) {
    removed = true;
    room?.close();
    ui.chatRemoved.replaceChildren(el("p", { class: "removed-title", text: t("chat.removed") }));
    if (text) ui.chatRemoved.append(el("p", { text }));
    show(ui.chatRemoved);
    renderForms();
    setCanChat(false);
    setStatus("");
  }

  const handlers = {
    onSnapshot(snapshot) {
      you = snapshot.you;
      setEpisodeStatus(snapshot.episode.status);
      composer.slowed = you.role === "viewer";
      chat.load(snapshot.chat, you);
      renderPinned(ui.pinned, snapshot.pinned);
      renderSlowMode(snapshot.slow_mode_seconds ?? 0);
      renderViewers(snapshot.viewers ?? 0);
      reactions.load(snapshot.reactions);
      const until = Date.parse(you.timed_out_until ?? "");
      if (until > Date.now()) composer.timedOutUntil(until);
      onRoomSnapshot(snapshot);
    },
    onEvent(event, data) {
      switch (event) {
        case "chat:message":
          chat.add(data.message);
          break;
        case "chat:deleted":
          chat.remove(data.message_id);
          if (ui.pinned.querySelector(`[data-id="${CSS.escape(data.message_id)}"]`)) renderPinned(ui.pinned, null);
          break;
        case "chat:answered":
          chat.markAnswered(data.message_id);
          break;
        case "chat:pinned":
          renderPinned(ui.pinned, data.message);
          break;
        case "chat:unpinned":
          renderPinned(ui.pinned, null);
          break;
        case "chat:slow-mode":
          renderSlowMode(data.seconds);
          break;
        case "chat:viewer-removed":
          if (you && data.ref === you.ref) showRemoved(data.reason);
          break;
        case "episode:live":
        case "episode:ended":
        case "episode:cancelled":
          setEpisodeStatus(data.status);
          onEpisodeEvent();
          break;
        default:
          onRoomEvent(event, data);
          break;
      }
    },
    onState(event, data) {
      if (event === "presence:count") renderViewers(data.viewers);
      else if (event === "chat:reactions") reactions.received(data.counts);
      else onRoomEvent(event, data);
    },
    onStatus(status, detail) {
      if (removed) return;
      setCanChat(status === "live");
      setStatus(STATUS_TEXT[status] ?? "");
      if (status === "refused") {
        // The token is no good any more (expired, or the server's key changed): watch without it,
        // and ask for a nickname again.
        forgetGuest();
        useToken(null, "");
        ui.nicknameError.textContent = t("chat.nickname_again", { reason: detail });
      } else if (status === "denied") {
        if (detail?.status === 403) showRemoved(detail.detail);
        else composer.showError(sentence(detail?.detail ?? t("chat.cannot_join")));
      }
    },
  };

  /** Chat as `name` with `value` (or watch only, with null); the open room connects again with it. */
  function useToken(value, chatName) {
    token = value;
    name = value ? chatName : "";
    useApiToken(value);
    ui.chattingAs.textContent = name ? t("chat.chatting_as", { name }) : "";
    room?.reconnectWith(token);
    renderForms();
  }

  ui.nicknameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const nickname = ui.nicknameForm.elements.nickname.value.trim();
    ui.nicknameError.textContent = "";
    ui.nicknameSubmit.disabled = true;
    try {
      const guest = await joinAsGuest(nickname);
      useToken(guest.token, guest.name);
      form.elements.text.focus();
    } catch (error) {
      ui.nicknameError.textContent = messageOf(error);
    } finally {
      ui.nicknameSubmit.disabled = false;
    }
  });

  // Staff signed in on this tab chat with their badge; everyone else as a guest.
  const staff = savedSession();
  const guest = staff ? null : savedGuest();
  if (staff) useToken(staff.token, t("chat.staff_account"));
  else if (guest) useToken(guest.token, guest.name);
  else useToken(null, "");

  window.addEventListener("pagehide", () => room?.close());

  return {
    get room() {
      return room;
    },
    setEpisodeStatus,
    /**
     * Resolves with the room once it is joined with a token (to buy, vote or enter); a viewer without
     * one becomes a nameless guest now. Throws ApiError when the guest token is refused, or an Error
     * when the room cannot be joined.
     */
    async ready() {
      await signedIn();
      if (!room || !(await room.whenJoined())) throw new Error(t("chat.room_unreachable"));
      return room;
    },
    /** Resolves once the viewer has a token, a nameless guest's if need be (buying from the replay). */
    signedIn,
    showHistory,
    /** The replay plays the chat in step with the video: exactly these messages, up to its moment. */
    replayTo(messages) {
      replayLoaded = true;
      chat.empty.textContent = t("chat.empty_replay");
      chat.load([], null);
      chat.load(messages, null);
    },
    /** The replay played on to the moment `message` was sent. */
    replayAdd(message) {
      chat.add(message);
    },
    /**
     * Put `text` in the box to write in, for the viewer to send (a giveaway's keyword); a viewer
     * without a nickname is asked for one first, and finds the text there once they have one.
     */
    suggest(text) {
      composer.input.value = text;
      if (token && name) {
        composer.input.focus();
        composer.input.scrollIntoView({ block: "nearest" });
      } else {
        ui.nicknameForm.elements.nickname.focus();
        ui.nicknameForm.scrollIntoView({ block: "nearest" });
      }
    },
    /** The token in use (a guest's, or the tab's staff sign-in), or null while only watching. */
    get token() {
      return token;
    },
    /** No chat for an episode that does not exist. */
    close() {
      room?.close();
      show(ui.chat, false);
    },
  };
}
