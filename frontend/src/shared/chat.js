// The live chat as the watch page and the studio show it: messages in order, each once, with their
// author's badge and the message they reply to; the pinned message; the box to write in.
// Every piece of text people wrote goes in as a text node (el()), never as HTML.

import { sentence } from "./api.js";
import { byTestIds, el, show } from "./dom.js";
import { clockText, waitText } from "./format.js";
import { fill, locale, t } from "./i18n.js";

const ROLE_BADGES = { host: t("chat.badge_host"), moderator: t("chat.badge_moderator"), manager: t("chat.badge_team") };
const KEEP_MESSAGES = 300; // a long show's chat stays light on a phone
const EXCERPT_CHARS = 90;

export const isStaff = (role) => Boolean(ROLE_BADGES[role]);

export function excerpt(text, size = EXCERPT_CHARS) {
  return text.length > size ? `${text.slice(0, size - 1).trimEnd()}…` : text;
}

function roleBadge(role) {
  const label = ROLE_BADGES[role];
  return label ? el("span", { class: `role-badge role-${role}`, "data-testid": "role-badge", text: label }) : null;
}

function timeOf(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "" : at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

/** The author, their badge and the text, on one line; used in the list, the pin and the Q&A queue. */
export function messageLine(message) {
  return el(
    "p",
    { class: "chat-line" },
    el("span", { class: "chat-author", "data-testid": "chat-author", text: message.author.name }),
    roleBadge(message.author.role),
    message.question ? el("span", { class: "chat-tag", "data-testid": "question-tag", text: t("chat.question") }) : null,
    " ",
    el("span", { class: "chat-text", "data-testid": "chat-text", text: message.text }),
  );
}

function quoteOf(reply) {
  return el(
    "blockquote",
    { class: "chat-quote", "data-testid": "chat-quote", "data-reply-to": reply.id },
    el("span", { class: "quote-author", text: reply.author_name }),
    " ",
    el("span", { class: "quote-text", text: excerpt(reply.text) }),
  );
}

const atOf = (message) => Date.parse(message.at) || 0;
const inOrder = (a, b) => atOf(a) - atOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The list of messages. `decorate(node, message)` adds a page's own controls to each message
 * (reply, moderation). Messages are keyed by id: a message that arrives twice (the ack of one's
 * own and the room's event, or a catch-up) is shown once.
 */
export class ChatView {
  constructor({ list, empty = null, jump = null, decorate = () => {}, onRemoved = () => {} }) {
    this.list = list;
    this.onRemoved = onRemoved;
    this.empty = empty;
    this.jump = jump;
    this.decorate = decorate;
    this.entries = new Map(); // id -> { message, node }
    this.you = null;
    list.addEventListener("scroll", () => {
      if (this.jump && this.atBottom()) show(this.jump, false);
    });
    jump?.addEventListener("click", () => this.scrollToEnd());
  }

  has(id) {
    return this.entries.has(id);
  }

  message(id) {
    return this.entries.get(id)?.message ?? null;
  }

  /**
   * Take a snapshot's chat. Messages already on screen stay (a reconnect loses nothing); those in the
   * snapshot's window that it no longer holds were removed while this page was away.
   */
  load(messages, you) {
    this.you = you;
    const fresh = new Map(messages.map((message) => [message.id, message]));
    const since = messages.length ? atOf(messages[0]) : Infinity;
    for (const [id, { message }] of this.entries) {
      if (!fresh.has(id) && (messages.length === 0 || atOf(message) >= since)) this.remove(id);
    }
    for (const message of messages) this.put(message);
    const ordered = [...this.entries.values()].sort((a, b) => inOrder(a.message, b.message));
    this.list.append(...ordered.map((entry) => entry.node));
    this.trim();
    this.renderEmpty();
    this.scrollToEnd();
  }

  /** A new message, at the end; returns false when it is already shown. */
  add(message) {
    if (this.entries.has(message.id)) return false;
    const stick = this.atBottom();
    this.put(message);
    this.trim();
    this.renderEmpty();
    if (stick || this.mine(message)) this.scrollToEnd();
    else if (this.jump) show(this.jump);
    return true;
  }

  put(message) {
    const known = this.entries.get(message.id);
    const node = this.render(message);
    if (known) known.node.replaceWith(node);
    else this.list.append(node);
    this.entries.set(message.id, { message, node });
  }

  /** Draw every message again (what its controls offer changed). */
  redraw() {
    for (const { message } of [...this.entries.values()]) this.put(message);
  }

  render(message) {
    // Not a list item: the messages live in a role="log" container, which is not a list.
    const node = el(
      "div",
      {
        class: "chat-message",
        "data-testid": "chat-message",
        "data-id": message.id,
        "data-role": message.author.role,
        "data-mine": this.mine(message),
        "data-question": message.question,
        "data-answered": message.answered,
        title: timeOf(message.at),
      },
      message.reply_to ? quoteOf(message.reply_to) : null,
      messageLine(message),
    );
    // The viewer's own messages say so, in the page's language (after the name, not part of it).
    if (this.mine(message)) node.querySelector(".chat-author").after(el("span", { class: "chat-you", text: t("chat.you") }));
    this.decorate(node, message);
    return node;
  }

  mine(message) {
    return Boolean(this.you) && message.author.ref === this.you.ref;
  }

  /** A moderator removed it: off the screen, and out of the quotes of replies to it. */
  remove(id) {
    const entry = this.entries.get(id);
    if (entry) {
      entry.node.remove();
      this.entries.delete(id);
    }
    for (const quote of this.list.querySelectorAll(`[data-reply-to="${CSS.escape(id)}"] .quote-text`)) {
      quote.textContent = t("chat.message_removed");
      quote.classList.add("removed");
    }
    this.renderEmpty();
    this.onRemoved(id);
  }

  markAnswered(id) {
    const message = this.message(id);
    if (message) this.put({ ...message, answered: true });
  }

  trim() {
    while (this.entries.size > KEEP_MESSAGES) {
      const [oldest] = this.entries.keys();
      this.entries.get(oldest).node.remove();
      this.entries.delete(oldest);
    }
  }

  renderEmpty() {
    if (this.empty) show(this.empty, this.entries.size === 0);
  }

  atBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight < 48;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    if (this.jump) show(this.jump, false);
  }
}

/** The pinned message above the chat, or nothing; `extra` adds controls (the studio's "Unpin"). */
export function renderPinned(box, message, extra = () => []) {
  if (!message) {
    box.replaceChildren();
    show(box, false);
    return;
  }
  box.replaceChildren(
    el("p", { class: "pinned-label", text: t("chat.pinned") }),
    el("div", { class: "pinned-body", "data-testid": "pinned-message", "data-id": message.id }, messageLine(message)),
    extra(message),
  );
  show(box);
}

/**
 * The box to write in: sends `chat:send` through `room`, shows the reason of a refusal, and counts
 * down before sending is possible again after a 429 (slow mode, rate limit) or during a time-out.
 * `room` is a function that gives the LiveRoom in use.
 */
export class Composer {
  constructor({ form, error, cooldown, replyBox = null, room, onSent = () => {} }) {
    this.form = form;
    this.input = form.elements.text;
    this.submit = form.querySelector("[type=submit]");
    this.question = form.elements.question ?? null;
    this.error = error;
    this.cooldown = cooldown;
    this.replyBox = replyBox;
    this.room = room;
    this.onSent = onSent;
    this.replyTo = null;
    this.until = 0;
    this.reason = "";
    this.timer = 0;
    this.slowSeconds = 0; // the room's slow mode, for a countdown without asking the server
    this.slowed = true; // viewers are slowed, staff are not
    this.sending = false;
    this.offline = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || this.sending || this.waiting()) return;
    this.sending = true;
    this.renderButton();
    const data = { text };
    if (this.replyTo) data.reply_to = this.replyTo.id;
    if (this.question?.checked) data.question = true;
    const ack = await this.room().send("chat:send", data);
    this.sending = false;
    if (ack.ok) {
      this.input.value = "";
      if (this.question) this.question.checked = false;
      this.setReply(null);
      this.showError("");
      this.onSent(ack.message, ack);
      if (this.slowed && this.slowSeconds > 0) this.wait(this.slowSeconds, t("chat.slow_mode"));
    } else {
      this.refused(ack.error);
    }
    this.renderButton();
    this.input.focus();
  }

  refused(error) {
    // A wait is told by its countdown, which unlike the number in the reason keeps time.
    const retryAfter = Number(error?.retry_after);
    const until = Date.parse(error?.until ?? "");
    if (error?.status === 429 && retryAfter > 0) {
      this.showError("");
      this.wait(retryAfter, this.slowed && this.slowSeconds > 0 ? t("chat.slow_mode") : t("chat.too_fast"));
    } else if (error?.status === 403 && until > Date.now()) {
      this.timedOutUntil(until);
    } else {
      this.showError(sentence(error?.detail || error?.title || t("chat.not_sent")));
    }
  }

  /** Timed out until `until` (milliseconds since the epoch). */
  timedOutUntil(until) {
    this.showError("");
    this.wait((until - Date.now()) / 1000, t("chat.timed_out"));
  }

  showError(text) {
    this.error.textContent = text;
  }

  /** Replying to `message` (or to nothing): shows what is quoted above the box. */
  setReply(message) {
    this.replyTo = message;
    if (!this.replyBox) return;
    if (!message) {
      this.replyBox.replaceChildren();
      show(this.replyBox, false);
      return;
    }
    const cancel = el("button", {
      type: "button",
      class: "reply-cancel",
      "aria-label": t("chat.cancel_reply"),
      "data-testid": "reply-cancel",
      text: "✕",
      onclick: () => {
        this.setReply(null);
        this.input.focus();
      },
    });
    this.replyBox.replaceChildren(
      el(
        "p",
        { class: "reply-preview-text" },
        ...fill(t("chat.replying_to"), {
          name: el("strong", { text: message.author.name }),
          text: el("span", { text: excerpt(message.text, 60) }),
        }),
      ),
      cancel,
    );
    show(this.replyBox);
    this.input.focus();
  }

  /** No sending for `seconds`; the countdown says why (`reason`) and how long. */
  wait(seconds, reason) {
    const until = Date.now() + seconds * 1000;
    if (until > this.until) {
      this.until = until;
      this.reason = reason;
    }
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 250);
    this.tick();
  }

  waiting() {
    return this.until > Date.now();
  }

  tick() {
    const left = (this.until - Date.now()) / 1000;
    if (left <= 0) {
      clearInterval(this.timer);
      this.until = 0;
      this.cooldown.textContent = "";
      show(this.cooldown, false);
    } else {
      this.cooldown.textContent = t("chat.cooldown", { reason: this.reason, wait: waitText(left) });
      show(this.cooldown);
    }
    this.renderButton();
  }

  renderButton() {
    this.submit.disabled = this.sending || this.waiting() || this.offline;
    this.submit.textContent = this.waiting() ? clockText((this.until - Date.now()) / 1000) : t("chat.send");
  }

  /** Sending waits for the room; writing does not (a short reconnection must not take the text away). */
  setOnline(online) {
    this.offline = !online;
    this.renderButton();
  }
}

/**
 * The message list and the box to write in of a page's chat panel (the markup of the partials
 * chat-messages and chat-composer): `decorate` adds controls to each message, `room` gives the
 * LiveRoom in use, `onSent(message, ack)` gets the ack's message (also shown in the list) and the
 * whole ack (a keyword that entered a giveaway adds `entry`).
 */
export function chatPanel({ decorate, room, onSent = () => {} }) {
  const ui = byTestIds(["chat-messages", "chat-empty", "chat-jump", "chat-error", "chat-cooldown", "chat-form"]);
  const chat = new ChatView({
    list: ui.chatMessages,
    empty: ui.chatEmpty,
    jump: ui.chatJump,
    decorate,
    // No replying to a message that is gone.
    onRemoved: (id) => composer.replyTo?.id === id && composer.setReply(null),
  });
  const composer = new Composer({
    form: ui.chatForm,
    error: ui.chatError,
    cooldown: ui.chatCooldown,
    replyBox: byTestIds(["reply-preview"], ui.chatForm).replyPreview,
    room,
    onSent: (message, ack) => {
      chat.add(message);
      onSent(message, ack);
    },
  });
  return { chat, composer, form: ui.chatForm };
}
