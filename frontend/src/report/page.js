// A report page (/manage/episodes/{id}/report, /manage/shows/{id}/report), for the brand's managers:
// an episode's figures, its minute-by-minute chart with the pins marked, its products, its live and
// replay sales, a comparison with the show's previous episodes; or a show's episodes side by side.
// Every table has its CSV file.

import "./page.css";
import { api, messageOf, onUnauthorized } from "../shared/api.js";
import { byTestIds, el, noticeLine, show } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { SIGN_IN_PARTS, resumeSession, setUpSignIn, showSignInForm } from "../shared/session.js";
import { episodesChart, minuteChart } from "./chart.js";
import { figureTiles, formats, tableSection } from "./tables.js";

const ui = byTestIds([
  ...SIGN_IN_PARTS,
  "report-loading",
  "report",
  "report-kind",
  "report-title",
  "report-when",
  "show-report-link-holder",
  "facts-note",
  "key-figures",
  "chart-title",
  "chart-hint",
  "chart",
  "tables",
]);
const notify = noticeLine(ui.notice);
const [, , kind, id] = window.location.pathname.split("/"); // /manage/episodes/<id>/report
let chart = null;

function showSignIn(message = "") {
  show(ui.report, false);
  showSignInForm(ui, message);
}

onUnauthorized(() => showSignIn(t("sign_in.expired")));
setUpSignIn({ form: ui.signInForm, error: ui.signInError, submit: ui.signInSubmit, onSignedIn: (me) => open(me) });
ui.signOut.addEventListener("click", () => {
  showSignIn();
  notify(t("sign_in.signed_out"));
});

async function open(me) {
  ui.accountName.textContent = me.name;
  show(ui.account);
  show(ui.signIn, false);
  show(ui.reportLoading);
  try {
    if (kind === "shows") showShow(await api.showReport(id));
    else showEpisode(await api.episodeReport(id));
    show(ui.report);
    ui.reportTitle.focus();
  } catch (problem) {
    notify(t("report.not_loaded", { reason: messageOf(problem) }), "error");
  } finally {
    show(ui.reportLoading, false);
  }
}

function csv(name, title, columns, rows, extra = {}) {
  const file = () => (kind === "shows" ? api.showReportFile(id) : api.episodeReportFile(id, name));
  return tableSection({ name, title, columns, rows, file, notify, ...extra });
}

/** [{figure label, live, replay}] rows from two objects of the same fields. */
function sideBySide(live, replay, fields) {
  return fields.map(([key, label, format]) => ({ key, figure: label, live: live[key], replay: replay[key], format }));
}

function periodColumns(f) {
  const value = (v, row) => (row.format ?? f.count)(v);
  return [
    { key: "figure", label: t("report.figure"), format: f.text },
    { key: "live", label: t("report.live"), format: value },
    { key: "replay", label: t("report.replay"), format: value },
  ];
}

function summaryColumns(f) {
  return [
    { key: "went_live_at", label: t("report.aired"), format: f.when },
    { key: "unique_viewers", label: t("report.unique_viewers"), format: f.count },
    { key: "peak_viewers", label: t("report.peak_viewers"), format: f.count },
    { key: "average_watch_seconds", label: t("report.average_watch"), format: f.duration },
    { key: "replay_viewers", label: t("report.replay_viewers"), format: f.count },
    { key: "replay_watch_seconds", label: t("report.replay_watch"), format: f.duration },
    { key: "messages", label: t("report.messages"), format: f.count },
    { key: "live_orders", label: t("report.live_orders"), format: f.count },
    { key: "live_revenue", label: t("report.live_revenue"), format: f.money },
    { key: "replay_orders", label: t("report.replay_orders"), format: f.count },
    { key: "replay_revenue", label: t("report.replay_revenue"), format: f.money },
    { key: "viewers_to_orders", label: t("report.viewers_to_orders"), format: f.share },
  ];
}

function drawChart(make) {
  chart?.destroy();
  chart = make(ui.chart);
}

function showEpisode(report) {
  const { episode, audience, sales, engagement } = report;
  const f = formats(report.currency, episode.time_zone);
  document.title = t("report.episode_page_title", { title: episode.title });
  ui.reportKind.textContent = t("report.episode_report");
  ui.reportTitle.textContent = episode.title;
  ui.reportWhen.textContent = t("report.aired_at", { when: f.when(episode.went_live_at), end: f.clock(episode.ended_at) });
  ui.showReportLinkHolder.replaceChildren(
    el("a", { class: "link", href: `/manage/shows/${episode.show_id}/report`, "data-testid": "show-report-link", text: t("report.whole_show", { show: episode.show_title }) }),
  );
  show(ui.factsNote, !report.facts_recorded);
  const live = sales.live;
  const revenue = live.revenue + sales.replay.revenue;
  figureTiles(ui.keyFigures, [
    { name: "peak-viewers", label: t("report.peak_viewers"), value: f.count(audience.live.peak_viewers), raw: audience.live.peak_viewers },
    { name: "unique-viewers", label: t("report.unique_viewers"), value: f.count(audience.live.unique_viewers), raw: audience.live.unique_viewers },
    { name: "average-watch", label: t("report.average_watch"), value: f.duration(audience.live.average_watch_seconds), raw: audience.live.average_watch_seconds },
    { name: "replay-viewers", label: t("report.replay_viewers"), value: f.count(audience.replay.unique_viewers), raw: audience.replay.unique_viewers },
    { name: "orders", label: t("report.orders_live_replay"), value: `${f.count(live.orders)} + ${f.count(sales.replay.orders)}`, raw: live.orders + sales.replay.orders },
    { name: "revenue", label: t("report.revenue"), value: f.money(revenue), raw: revenue },
  ]);
  ui.chartTitle.textContent = t("report.minute_chart");
  ui.chartHint.textContent = t("report.minute_chart_hint");
  ui.chart.setAttribute("aria-label", t("report.minute_chart_label", { minutes: report.minutes.length, pins: report.pins.length }));
  drawChart((canvas) => minuteChart(canvas, report));

  const audienceRows = sideBySide(audience.live, audience.replay, [
    ["unique_viewers", t("report.unique_viewers")],
    ["peak_viewers", t("report.peak_viewers")],
    ["average_viewers", t("report.average_viewers"), f.decimal],
    ["average_watch_seconds", t("report.average_watch"), f.duration],
    ["median_watch_seconds", t("report.median_watch"), f.duration],
    ["watch_seconds", t("report.watch_time"), f.duration],
  ]);
  const salesRows = sideBySide(sales.live, sales.replay, [
    ["viewers", t("report.viewers")],
    ["carts", t("report.carts")],
    ["adds", t("report.adds")],
    ["orders", t("report.orders")],
    ["buyers", t("report.buyers")],
    ["units", t("report.units")],
    ["revenue", t("report.revenue"), f.money],
    ["viewers_to_carts", t("report.viewers_to_carts"), f.share],
    ["carts_to_orders", t("report.carts_to_orders"), f.share],
    ["viewers_to_orders", t("report.viewers_to_orders"), f.share],
  ]);
  const engagementRows = [
    ["messages", t("report.messages")],
    ["questions", t("report.questions")],
    ["answered_questions", t("report.answered_questions")],
    ["reactions", t("report.reactions")],
    ["polls", t("report.polls")],
    ["poll_votes", t("report.poll_votes")],
    ["poll_voters", t("report.poll_voters")],
    ["giveaways", t("report.giveaways")],
    ["giveaway_entries", t("report.giveaway_entries")],
  ].map(([key, figure]) => ({ key, figure, value: engagement[key] }));
  const thisOne = {
    episode_id: episode.id,
    went_live_at: episode.went_live_at,
    unique_viewers: audience.live.unique_viewers,
    peak_viewers: audience.live.peak_viewers,
    average_watch_seconds: audience.live.average_watch_seconds,
    watch_seconds: audience.live.watch_seconds,
    replay_viewers: audience.replay.unique_viewers,
    replay_watch_seconds: audience.replay.watch_seconds,
    messages: engagement.messages,
    live_orders: live.orders,
    live_revenue: live.revenue,
    replay_orders: sales.replay.orders,
    replay_revenue: sales.replay.revenue,
    viewers_to_orders: live.viewers_to_orders,
    replay_viewers_to_orders: sales.replay.viewers_to_orders,
  };
  ui.tables.replaceChildren(
    csv("audience", t("report.audience"), periodColumns(f), audienceRows),
    csv("sales", t("report.sales"), periodColumns(f), salesRows),
    csv("products", t("report.products"), [
      { key: "title", label: t("report.product"), format: f.text },
      { key: "pins", label: t("report.pins"), format: f.count },
      { key: "seconds_on_screen", label: t("report.on_screen"), format: f.duration },
      { key: "card_views", label: t("report.card_views"), format: f.count },
      { key: "replay_card_views", label: t("report.replay_card_views"), format: f.count },
      { key: "adds", label: t("report.adds"), format: f.count },
      { key: "orders", label: t("report.orders"), format: f.count },
      { key: "units_sold", label: t("report.units"), format: f.count },
      { key: "revenue", label: t("report.revenue"), format: f.money },
    ], report.products),
    csv("engagement", t("report.engagement"), [
      { key: "figure", label: t("report.figure"), format: f.text },
      { key: "value", label: t("report.value"), format: f.count },
    ], engagementRows),
    csv("previous", t("report.compared"), summaryColumns(f), [...report.previous, thisOne], {
      rowTestId: (row) => (row.episode_id === episode.id ? "previous-this" : "previous-row"),
    }),
    csv("pins", t("report.pin_list"), [
      { key: "shown_at", label: t("report.shown_at"), format: f.clock },
      { key: "title", label: t("report.product"), format: f.text, words: true },
      { key: "hidden_at", label: t("report.hidden_at"), format: f.clock },
    ], report.pins),
    csv("minutes", t("report.minutes"), [
      { key: "at", label: t("report.minute"), format: f.clock },
      { key: "viewers", label: t("report.viewers"), format: f.count },
      { key: "messages", label: t("report.messages"), format: f.count },
      { key: "orders", label: t("report.orders"), format: f.count },
      { key: "revenue", label: t("report.revenue"), format: f.money },
    ], report.minutes, { folded: true }),
  );
}

function showShow(report) {
  const f = formats(report.currency, report.time_zone);
  const day = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeZone: report.time_zone });
  document.title = t("report.show_page_title", { title: report.title });
  ui.reportKind.textContent = t("report.show_report");
  ui.reportTitle.textContent = report.title;
  ui.reportWhen.textContent = t("report.episodes_aired", { count: report.episodes.length, n: f.count(report.episodes.length) });
  ui.showReportLinkHolder.replaceChildren();
  const revenue = report.episodes.reduce((sum, e) => sum + e.live_revenue + e.replay_revenue, 0);
  const orders = report.episodes.reduce((sum, e) => sum + e.live_orders + e.replay_orders, 0);
  const peak = Math.max(0, ...report.episodes.map((e) => e.peak_viewers));
  const total = (field) => report.episodes.reduce((sum, e) => sum + e[field], 0);
  const [viewers, replayViewers] = [total("unique_viewers"), total("replay_viewers")];
  const watched = total("watch_seconds") + total("replay_watch_seconds");
  figureTiles(ui.keyFigures, [
    { name: "episodes", label: t("report.episodes"), value: f.count(report.episodes.length), raw: report.episodes.length },
    { name: "peak-viewers", label: t("report.best_peak"), value: f.count(peak), raw: peak },
    { name: "viewers", label: t("report.viewers_live_replay"), value: `${f.count(viewers)} + ${f.count(replayViewers)}`, raw: viewers + replayViewers },
    { name: "watch", label: t("report.watch_live_replay"), value: f.duration(watched), raw: watched },
    { name: "orders", label: t("report.orders"), value: f.count(orders), raw: orders },
    { name: "revenue", label: t("report.revenue"), value: f.money(revenue), raw: revenue },
  ]);
  ui.chartTitle.textContent = t("report.episodes_chart");
  ui.chartHint.textContent = t("report.episodes_chart_hint");
  ui.chart.setAttribute("aria-label", t("report.episodes_chart_label", { count: report.episodes.length }));
  drawChart((canvas) => episodesChart(canvas, report.episodes, report.currency, (e) => day.format(new Date(e.went_live_at))));
  const columns = [{ key: "title", label: t("report.episode"), format: f.text }, ...summaryColumns(f)];
  const section = csv("episodes", t("report.episodes"), columns, report.episodes);
  // Each episode's own report, one click away.
  for (const [index, row] of section.querySelectorAll("tbody tr").entries()) {
    const cell = row.querySelector("th");
    const episode = report.episodes[index];
    cell.replaceChildren(el("a", { class: "link", href: `/manage/episodes/${episode.episode_id}/report`, text: episode.title }));
  }
  ui.tables.replaceChildren(section);
}

async function start() {
  if (!["episodes", "shows"].includes(kind)) return;
  await resumeSession({ onSignedIn: open, showSignIn });
}

start();
