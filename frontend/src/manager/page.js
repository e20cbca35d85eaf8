// The manager page (/manage): sign in, pick a brand, plan and change weekly shows, move, cancel and add
// episodes, plan each one's products (lineup.js), polls and giveaways (games.js), share calendars; the
// brand's products (catalog.js), its orders (orders.js, order-detail.js), its emails to buyers (emails.js) and
// its webhooks (webhooks.js).

import "./page.css";
import { api, messageOf, onUnauthorized } from "../shared/api.js";
import { setUpCatalog } from "./catalog.js";
import { byTestIds, copyToClipboard, el, noticeLine, show } from "../shared/dom.js";
import { episodeForm } from "./episode-form.js";
import { renderEpisodes } from "./episodes.js";
import { setUpEmails } from "./emails.js";
import { setUpManagerGames } from "./games.js";
import { calendarUrls, dateInDays, episodeTime, scheduleSummary } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { setUpManagerLineup } from "./lineup.js";
import { setUpOrders } from "./orders.js";
import { SIGN_IN_PARTS, resumeSession, setUpSignIn, showSignInForm } from "../shared/session.js";
import { setUpShowForm } from "./show-form.js";
import { setUpWebhooks } from "./webhooks.js";

const BRAND_KEY = "shopcast.brand";

/** A member's role in the brand, in the page's language ("manager" → "responsable"). */
function roleName(role) {
  const names = { manager: t("manager.role_manager"), host: t("manager.role_host"), moderator: t("manager.role_moderator") };
  return names[role] ?? role;
}

const ui = byTestIds([
  ...SIGN_IN_PARTS,
  "workspace",
  "workspace-title",
  "brand-role",
  "brand-picker",
  "brand-select",
  "no-brand",
  "tabs",
  "tab-shows",
  "tab-products",
  "tab-orders",
  "tab-emails",
  "tab-webhooks",
  "shows-view",
  "shows-pane",
  "new-show",
  "show-list",
  "no-shows",
  "show-form",
  "show-detail",
  "show-title",
  "edit-show",
  "show-schedule",
  "show-description",
  "show-report",
  "calendar-url",
  "copy-calendar",
  "copy-feedback",
  "subscribe-calendar",
  "add-episode",
  "one-off-holder",
  "episode-list",
  "episodes-loading",
  "no-episodes",
  "past-episodes",
]);

const state = { me: null, membership: null, shows: [], selectedShowId: null, loads: 0, includePast: false };

const isManager = () => state.membership?.role === "manager";
const canPresent = () => ["manager", "host"].includes(state.membership?.role);
const brandSlug = () => state.membership.brand.slug;

const notify = noticeLine(ui.notice);

// --- session -----------------------------------------------------------------------------

function showSignIn(message = "") {
  Object.assign(state, { me: null, membership: null, shows: [], selectedShowId: null });
  state.loads += 1;
  show(ui.workspace, false);
  showSignInForm(ui, message);
}

onUnauthorized(() => showSignIn(t("sign_in.expired")));

setUpSignIn({
  form: ui.signInForm,
  error: ui.signInError,
  submit: ui.signInSubmit,
  onSignedIn: (me) => enterWorkspace(me),
});

ui.signOut.addEventListener("click", () => {
  sessionStorage.removeItem(BRAND_KEY);
  showSignIn();
  notify(t("sign_in.signed_out"));
});

// --- brands --------------------------------------------------------------------------------

async function enterWorkspace(me) {
  state.me = me;
  ui.accountName.textContent = me.name;
  show(ui.account);
  show(ui.signIn, false);
  show(ui.workspace);
  const memberships = me.memberships || [];
  show(ui.noBrand, memberships.length === 0);
  show(ui.showsPane, memberships.length > 0);
  show(ui.tabs, memberships.length > 0);
  show(ui.brandPicker, memberships.length > 1);
  ui.brandSelect.replaceChildren(
    ...memberships.map((m) => el("option", { value: m.brand.slug, text: t("manager.brand_option", { brand: m.brand.name, role: roleName(m.role) }) })),
  );
  if (memberships.length === 0) {
    ui.workspaceTitle.textContent = t("manager.no_brand_title");
    ui.brandRole.textContent = "";
    ui.workspaceTitle.focus();
    return;
  }
  const remembered = sessionStorage.getItem(BRAND_KEY);
  const membership = memberships.find((m) => m.brand.slug === remembered) || memberships[0];
  ui.brandSelect.value = membership.brand.slug;
  notify(t("manager.signed_in", { name: me.name }));
  await openBrand(membership);
  ui.workspaceTitle.focus();
}

ui.brandSelect.addEventListener("change", () => {
  const membership = state.me.memberships.find((m) => m.brand.slug === ui.brandSelect.value);
  if (membership) openBrand(membership);
});

async function openBrand(membership) {
  const load = ++state.loads;
  state.membership = membership;
  state.selectedShowId = null;
  sessionStorage.setItem(BRAND_KEY, membership.brand.slug);
  ui.workspaceTitle.textContent = membership.brand.name;
  ui.brandRole.textContent = t("manager.your_role", { role: roleName(membership.role) });
  catalog.setBrand(membership);
  orders.setBrand(membership);
  emails.setBrand(membership);
  webhooks.setBrand(membership);
  // The orders and the emails hold the buyers' names and addresses, the webhooks send them: the brand's
  // managers only.
  show(ui.tabOrders, isManager());
  show(ui.tabEmails, isManager());
  show(ui.tabWebhooks, isManager());
  showTab(MANAGERS_ONLY.includes(currentTab) && !isManager() ? "shows" : currentTab);
  show(ui.newShow, isManager());
  showForm.close();
  closePanels();
  show(ui.showDetail, false);
  ui.showList.replaceChildren(el("li", { class: "loading", text: t("manager.loading_shows") }));
  try {
    const [shows, members] = await Promise.all([
      api.shows(membership.brand.slug),
      isManager() ? api.members(membership.brand.slug) : Promise.resolve([]),
    ]);
    if (load !== state.loads) return;
    state.shows = shows;
    showForm.setHosts(members);
    renderShowList();
    if (shows.length > 0) await selectShow(shows[0].id);
  } catch (error) {
    if (load !== state.loads) return;
    ui.showList.replaceChildren();
    notify(t("manager.shows_failed", { error: messageOf(error) }), "error");
  }
}

// --- shows, products, orders, emails or webhooks -------------------------------------------

const MANAGERS_ONLY = ["orders", "emails", "webhooks"];
const catalog = setUpCatalog({ notify });
const emails = setUpEmails({ notify });
const webhooks = setUpWebhooks({ notify });
const orders = setUpOrders({
  notify,
  openEmail: (emailId) => {
    emails.reveal(emailId);
    showTab("emails");
  },
});
let currentTab = "shows";

function showTab(tab) {
  currentTab = tab;
  ui.tabShows.setAttribute("aria-pressed", String(tab === "shows"));
  ui.tabProducts.setAttribute("aria-pressed", String(tab === "products"));
  ui.tabOrders.setAttribute("aria-pressed", String(tab === "orders"));
  ui.tabEmails.setAttribute("aria-pressed", String(tab === "emails"));
  ui.tabWebhooks.setAttribute("aria-pressed", String(tab === "webhooks"));
  show(ui.showsView, tab === "shows");
  catalog.showView(tab === "products");
  orders.showView(tab === "orders");
  emails.showView(tab === "emails");
  webhooks.showView(tab === "webhooks");
}

ui.tabShows.addEventListener("click", () => showTab("shows"));
ui.tabProducts.addEventListener("click", () => showTab("products"));
ui.tabOrders.addEventListener("click", () => showTab("orders"));
ui.tabEmails.addEventListener("click", () => showTab("emails"));
ui.tabWebhooks.addEventListener("click", () => showTab("webhooks"));

// --- shows ---------------------------------------------------------------------------------

function renderShowList() {
  show(ui.noShows, state.shows.length === 0);
  ui.noShows.textContent = isManager()
    ? t("manager.no_shows_manager")
    : t("manager.no_shows");
  ui.showList.replaceChildren(
    ...state.shows.map((s) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "show-item",
            "data-testid": "show-item",
            "data-show-id": s.id,
            "aria-current": s.id === state.selectedShowId ? "true" : false,
            onclick: () => selectShow(s.id),
          },
          el("span", { class: "show-item-title", text: s.title }),
          el("span", {
            class: "show-item-meta",
            text: `${scheduleSummary(s.rrule, s.first_episode_at)} · ${s.time_zone.replaceAll("_", " ")}`,
          }),
        ),
      ),
    ),
  );
}

const games = setUpManagerGames();
const lineup = setUpManagerLineup({ brandSlug });

ui.pastEpisodes.addEventListener("click", () => {
  state.includePast = !state.includePast;
  ui.pastEpisodes.setAttribute("aria-pressed", String(state.includePast));
  if (state.selectedShowId) loadEpisodes();
});

async function selectShow(showId) {
  const selected = state.shows.find((s) => s.id === showId);
  if (!selected) return;
  if (showId !== state.selectedShowId) closePanels();
  state.selectedShowId = showId;
  showForm.close();
  renderShowList();
  renderShowDetail(selected);
  await loadEpisodes();
}

const selectedShow = () => state.shows.find((s) => s.id === state.selectedShowId);

/** The selected show's episodes, listed again; with `focus`, that episode's row then has the keyboard. */
async function loadEpisodes({ focus = null } = {}) {
  const selected = selectedShow();
  const load = ++state.loads;
  ui.episodeList.replaceChildren();
  show(ui.noEpisodes, false);
  show(ui.episodesLoading);
  ui.episodeList.setAttribute("aria-busy", "true");
  try {
    const episodes = await api.episodes(selected.id, state.includePast);
    if (load !== state.loads) return;
    renderEpisodes(ui.episodeList, episodes, {
      show: selected,
      canEdit: isManager(),
      canPresent: canPresent(),
      cancel: (episode) => api.cancelEpisode(episode.id),
      move: (episode, body) => moveEpisode(episode, body),
      onCancelled: (episode) => lineup.changed(episode, selected),
      notify,
      onLineup: canPresent() ? (episode) => openPanel(lineup, episode, selected) : null,
      onGames: isManager() ? (episode) => openPanel(games, episode, selected) : null,
      canReport: isManager(),
    });
    show(ui.noEpisodes, episodes.length === 0);
    if (focus) ui.episodeList.querySelector(`[data-episode-id="${CSS.escape(focus)}"]`)?.focus();
  } catch (error) {
    if (load !== state.loads) return;
    notify(t("manager.episodes_failed", { error: messageOf(error) }), "error");
  } finally {
    if (load === state.loads) {
      show(ui.episodesLoading, false);
      ui.episodeList.setAttribute("aria-busy", "false");
    }
  }
}

/** One panel under the list at a time: an episode's products, or its polls and giveaways. */
function openPanel(panel, episode, owner) {
  for (const other of [lineup, games]) if (other !== panel) other.close();
  panel.open(episode, owner);
}

/** What was open for the show that was shown: its episodes' panels, the one-off form. */
function closePanels() {
  games.close();
  lineup.close();
  closeOneOff();
}

async function moveEpisode(episode, body) {
  const selected = selectedShow();
  const moved = await api.updateEpisode(episode.id, body);
  notify(t("episodes.moved_to", { when: episodeTime(moved.starts_at, selected.time_zone) }));
  lineup.changed(moved, selected);
  await loadEpisodes({ focus: moved.id });
}

// --- a one-off episode ---------------------------------------------------------------------

let oneOff = null;

function closeOneOff() {
  oneOff?.form.remove();
  oneOff = null;
  ui.addEpisode.setAttribute("aria-expanded", "false");
}

ui.addEpisode.addEventListener("click", () => {
  if (oneOff) {
    closeOneOff();
    return;
  }
  const selected = selectedShow();
  oneOff = episodeForm({
    testId: "one-off-form",
    label: t("episodes.add"),
    zone: selected.time_zone,
    date: dateInDays(1),
    time: selected.first_episode_at.slice(11, 16),
    withTitle: true,
    submitText: t("episodes.add_submit"),
    failed: (reason) => t("episodes.not_added", { reason }),
    submit: async (body) => {
      const added = await api.addEpisode(selected.id, body);
      closeOneOff();
      notify(t("episodes.added", { when: episodeTime(added.starts_at, selected.time_zone) }));
      await loadEpisodes({ focus: added.id });
    },
    close: () => {
      closeOneOff();
      ui.addEpisode.focus();
    },
  });
  ui.oneOffHolder.append(oneOff.form);
  ui.addEpisode.setAttribute("aria-expanded", "true");
  oneOff.focus();
});

function renderShowDetail(s) {
  show(ui.showDetail);
  show(ui.editShow, isManager());
  show(ui.addEpisode, isManager());
  ui.showTitle.textContent = s.title;
  ui.showSchedule.textContent = [
    scheduleSummary(s.rrule, s.first_episode_at),
    s.time_zone.replaceAll("_", " "),
    t("manager.minutes", { n: s.duration_minutes }),
  ].join(" · ");
  ui.showDescription.textContent = s.description;
  show(ui.showDescription, Boolean(s.description));
  ui.showReport.href = `/manage/shows/${s.id}/report`;
  show(ui.showReport, isManager());
  const urls = calendarUrls(s.calendar_path);
  ui.calendarUrl.value = urls.https;
  ui.subscribeCalendar.href = urls.webcal;
  ui.copyFeedback.textContent = "";
}

const showForm = setUpShowForm(ui.showForm, {
  brandSlug,
  onCreated: async (created) => {
    state.shows = [...state.shows, created];
    notify(t("manager.planned", { title: created.title }));
    await selectShow(created.id);
    ui.showTitle.focus();
  },
  onSaved: async (saved, changed) => {
    state.shows = state.shows.map((s) => (s.id === saved.id ? saved : s));
    closePanels(); // their episodes may have new times
    notify(changed ? t("manager.show_saved", { title: saved.title }) : t("manager.show_unchanged"));
    await selectShow(saved.id);
    ui.editShow.focus();
  },
  onClosed: (edited) => {
    show(ui.showDetail, state.selectedShowId !== null);
    (edited ? ui.editShow : ui.newShow).focus();
  },
});

ui.newShow.addEventListener("click", () => {
  show(ui.showDetail, false);
  showForm.open();
});

ui.editShow.addEventListener("click", () => {
  show(ui.showDetail, false);
  showForm.open(selectedShow());
});

// --- calendar link -------------------------------------------------------------------------

let feedbackTimer = 0;

ui.copyCalendar.addEventListener("click", async () => {
  const copied = await copyToClipboard(ui.calendarUrl);
  ui.copyFeedback.textContent = copied ? t("manager.copied") : t("manager.copy_by_hand");
  clearTimeout(feedbackTimer);
  feedbackTimer = setTimeout(() => {
    ui.copyFeedback.textContent = "";
  }, 5000);
});

ui.calendarUrl.addEventListener("focus", () => ui.calendarUrl.select());

// --- start ---------------------------------------------------------------------------------

async function start() {
  await resumeSession({ onSignedIn: enterWorkspace, showSignIn });
}

start();
