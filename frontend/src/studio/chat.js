// The studio's moderation view: the live chat with an action menu on each message (delete, time out,
// ban, shadow-ban, pin), the pinned message, the Q&A queue, slow mode and the room's viewer count.
// Each action is a client event; a refusal shows the ack's reason.

import { sentence } from "../shared/api.js";
import { chatPanel, excerpt, isStaff, messageLine, renderPinned } from "../shared/chat.js";
import { byTestIds, el, noticeLine, show } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { floatCounts } from "../shared/reactions.js";
import { LiveRoom, STATUS_TEXT } from "../shared/room.js";

const TIMEOUT_MINUTES = [1, 5, 10, 30, 60, 1440];
const SLOW_MODE_SECONDS = [0, 5, 10, 30, 60, 120, 300];

const minutesText = (minutes) =>
  minutes >= 60 ? t("studio_chat.hours", { n: minutes / 60 }) : t("studio_chat.minutes", { n: minutes });
const secondsText = (seconds) =>
  seconds === 0
    ? t("studio_chat.off")
    : seconds >= 60
      ? t("studio_chat.minutes", { n: seconds / 60 })
      : t("studio_chat.seconds", { n: seconds });

/**
 * Sets up the studio's chat for `episodeId`. `onSignInRefused(reason)` runs when the server no longer
 * takes the token (it expired): the studio asks to sign in again, then calls `reconnect(token)`.
 * The room's viewer count goes to `onViewers(count)`, its other events to `onRoomSnapshot(snapshot)` and
 * `onRoomEvent(event, data)` (the shop's and the games').
 */
export function setUpStudioChat({
  episodeId,
  onSignInRefused,
  onViewers = () => {},
  onRoomSnapshot = () => {},
  onRoomEvent = () => {},
}) {
  const ui = byTestIds([
    "studio-room",
    "chat-status",
    "pinned",
    "moderation-notice",
    "questions",
    "question-count",
    "no-questions",
    "slow-mode",
    "slow-mode-error",
    "reaction-layer",
  ]);

  let room = null;
  let pinnedId = null;
  const questions = new Map(); // id -> node, oldest first

  const { chat, composer, form } = chatPanel({
    decorate: (node, message) => node.append(...moderationMenu(message)),
    room: () => room,
    onSent: (message) => message.question && addQuestion(message),
  });
  composer.slowed = false;

  const notice = noticeLine(ui.moderationNotice);

  /** Send a moderation event; says what happened, or why it was refused. Resolves with the ack. */
  async function moderate(event, data, done) {
    const ack = await room.send(event, data);
    if (ack.ok) notice(done);
    else notice(ack.error?.detail ? sentence(ack.error.detail) : t("studio_chat.refused"), "error");
    return ack;
  }

  // --- the menu on each message ------------------------------------------------------------

  function actionButton(label, testId, onclick, kind = "") {
    return el("button", { type: "button", class: `button button-small ${kind}`, "data-testid": testId, text: label, onclick });
  }

  function moderationMenu(message) {
    const name = message.author.name;
    const target = { message_id: message.id };
    const actions = el("div", {
      class: "mod-actions",
      role: "group",
      "aria-label": t("studio_chat.actions_on", { name }),
      "data-testid": "mod-actions",
      hidden: true,
    });
    const toggle = el("button", {
      type: "button",
      class: "mod-toggle",
      "aria-label": t("studio_chat.moderate", { name }),
      "aria-expanded": "false",
      "data-testid": "mod-toggle",
      text: "⋯",
      onclick: () => setOpen(actions.hidden),
    });
    function setOpen(open) {
      show(actions, open);
      toggle.setAttribute("aria-expanded", String(open));
    }
    const close = () => setOpen(false);
    const pinned = pinnedId === message.id;
    actions.append(
      actionButton(t("studio_chat.reply"), "mod-reply", () => {
        close();
        composer.setReply(message);
      }),
      pinned
        ? actionButton(t("studio_chat.unpin"), "mod-unpin", () =>
            moderate("chat:unpin", {}, t("studio_chat.unpinned")).then(close),
          )
        : actionButton(t("studio_chat.pin"), "mod-pin", () =>
            moderate("chat:pin", target, t("studio_chat.pinned", { name })).then(close),
          ),
      actionButton(
        t("studio_chat.delete"),
        "mod-delete",
        async () => {
          const ack = await moderate("chat:delete", target, t("studio_chat.deleted", { name }));
          if (ack.ok) removeMessage(message.id);
        },
        "button-danger-quiet",
      ),
    );
    // Staff and oneself are not restricted from here.
    if (!isStaff(message.author.role) && !chat.mine(message)) {
      const minutes = el(
        "select",
        { class: "mod-minutes", "aria-label": t("studio_chat.timeout_length"), "data-testid": "timeout-minutes" },
        ...TIMEOUT_MINUTES.map((m) => el("option", { value: m, text: minutesText(m), selected: m === 10 })),
      );
      const confirmBan = el(
        "span",
        { class: "mod-confirm", hidden: true },
        el("span", { text: t("studio_chat.ban_question", { name }) }),
        actionButton(
          t("studio_chat.ban_yes"),
          "mod-ban-confirm",
          () => moderate("chat:ban", target, t("studio_chat.banned", { name })).then(close),
          "button-danger-quiet",
        ),
        actionButton(t("studio_chat.ban_no"), "mod-ban-cancel", () => {
          show(confirmBan, false);
          show(banButton);
        }),
      );
      const banButton = actionButton(t("studio_chat.ban"), "mod-ban", () => {
        show(banButton, false);
        show(confirmBan);
      });
      actions.append(
        el(
          "span",
          { class: "mod-timeout" },
          minutes,
          actionButton(t("studio_chat.timeout"), "mod-timeout", () => {
            const m = Number(minutes.value);
            const done = t("studio_chat.timed_out", { name, duration: minutesText(m) });
            moderate("chat:timeout", { ...target, minutes: m }, done).then(close);
          }),
        ),
        actionButton(t("studio_chat.shadow_ban"), "mod-shadow-ban", () =>
          moderate("chat:shadow-ban", target, t("studio_chat.shadow_banned", { name })).then(close),
        ),
        banButton,
        confirmBan,
      );
    }
    return [toggle, actions];
  }

  // --- pinned message and questions --------------------------------------------------------

  function setPinned(message) {
    pinnedId = message?.id ?? null;
    renderPinned(ui.pinned, message, () =>
      el("button", {
        type: "button",
        class: "button button-small button-quiet",
        "data-testid": "unpin",
        text: t("studio_chat.unpin"),
        onclick: () => moderate("chat:unpin", {}, t("studio_chat.unpinned")),
      }),
    );
    chat.redraw(); // the menus say "Pin" or "Unpin"
  }

  function addQuestion(message) {
    if (questions.has(message.id) || message.answered) return;
    const answered = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "mark-answered",
      "aria-label": t("studio_chat.mark_answered", { name: message.author.name }),
      text: t("studio_chat.answered"),
      onclick: async () => {
        answered.disabled = true;
        const ack = await moderate("chat:answer", { message_id: message.id }, t("studio_chat.marked_answered"));
        if (ack.ok) removeQuestion(message.id);
        else answered.disabled = false;
      },
    });
    const pin = el("button", {
      type: "button",
      class: "button button-small button-quiet",
      "data-testid": "pin-question",
      text: t("studio_chat.pin"),
      title: t("studio_chat.pin_question"),
      onclick: () => moderate("chat:pin", { message_id: message.id }, t("studio_chat.question_pinned")),
    });
    const node = el(
      "li",
      { class: "question", "data-testid": "question", "data-id": message.id },
      messageLine({ ...message, question: false, text: excerpt(message.text, 280) }),
      el("div", { class: "question-actions" }, answered, pin),
    );
    questions.set(message.id, node);
    ui.questions.append(node);
    renderQuestionCount();
  }

  function removeQuestion(id) {
    questions.get(id)?.remove();
    questions.delete(id);
    renderQuestionCount();
  }

  function renderQuestionCount() {
    ui.questionCount.textContent = questions.size ? String(questions.size) : "";
    show(ui.noQuestions, questions.size === 0);
  }

  function removeMessage(id) {
    chat.remove(id);
    removeQuestion(id);
    if (pinnedId === id) setPinned(null);
  }

  // --- slow mode and the audience ----------------------------------------------------------

  function renderSlowMode(seconds) {
    if (![...ui.slowMode.options].some((option) => Number(option.value) === seconds)) {
      ui.slowMode.append(el("option", { value: seconds, text: secondsText(seconds) }));
    }
    ui.slowMode.value = String(seconds);
    ui.slowMode.dataset.current = String(seconds);
  }

  ui.slowMode.replaceChildren(...SLOW_MODE_SECONDS.map((s) => el("option", { value: s, text: secondsText(s) })));
  ui.slowMode.addEventListener("change", async () => {
    const seconds = Number(ui.slowMode.value);
    ui.slowModeError.textContent = "";
    ui.slowMode.disabled = true;
    const ack = await room.send("chat:slow-mode", { seconds });
    ui.slowMode.disabled = false;
    if (ack.ok) renderSlowMode(seconds);
    else {
      ui.slowMode.value = ui.slowMode.dataset.current ?? "0";
      ui.slowModeError.textContent = ack.error?.detail
        ? sentence(ack.error.detail)
        : t("studio_chat.slow_mode_unchanged");
    }
  });

  // --- the room ----------------------------------------------------------------------------

  const handlers = {
    onSnapshot(snapshot) {
      setPinned(snapshot.pinned);
      chat.load(snapshot.chat, snapshot.you);
      for (const id of [...questions.keys()]) removeQuestion(id);
      for (const question of snapshot.questions || []) addQuestion(question);
      renderSlowMode(snapshot.slow_mode_seconds ?? 0);
      onViewers(snapshot.viewers ?? 0);
      onRoomSnapshot(snapshot);
    },
    onEvent(event, data) {
      switch (event) {
        case "chat:message":
          chat.add(data.message);
          if (data.message.question) addQuestion(data.message);
          break;
        case "chat:deleted":
          removeMessage(data.message_id);
          break;
        case "chat:answered":
          chat.markAnswered(data.message_id);
          removeQuestion(data.message_id);
          break;
        case "chat:pinned":
          setPinned(data.message);
          break;
        case "chat:unpinned":
          setPinned(null);
          break;
        case "chat:slow-mode":
          renderSlowMode(data.seconds);
          break;
        default:
          onRoomEvent(event, data);
          break;
      }
    },
    onState(event, data) {
      if (event === "presence:count") onViewers(data.viewers);
      else if (event === "chat:reactions") floatCounts(ui.reactionLayer, data.counts);
      else onRoomEvent(event, data);
    },
    onStatus(status, detail) {
      const live = status === "live";
      composer.setOnline(live);
      ui.slowMode.disabled = !live;
      ui.chatStatus.textContent = STATUS_TEXT[status] ?? "";
      show(ui.chatStatus, Boolean(ui.chatStatus.textContent));
      if (status === "refused") onSignInRefused(detail);
      else if (status === "denied") {
        notice(detail?.detail ? sentence(detail.detail) : t("studio_chat.cannot_open"), "error");
      }
    },
  };

  renderQuestionCount();

  return {
    /** Open the room with the studio's token (again with a new one after signing in again). */
    open(token) {
      show(ui.studioRoom);
      if (room) room.reconnectWith(token);
      else room = new LiveRoom(episodeId, { token, ...handlers });
    },
    /** Staff write in the chat before and during the show; after it they can still tidy it up. */
    setEpisodeStatus(status) {
      show(form, status === "scheduled" || status === "live");
    },
    close() {
      room?.close();
      room = null;
      show(ui.studioRoom, false);
    },
    get room() {
      return room;
    },
  };
}
