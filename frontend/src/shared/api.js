// The JSON API as the pages see it: one fetch wrapper that turns problem JSON into ApiError.

import { lang, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, detail, problem = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

let token = null;
let whenUnauthorized = () => {};

export function useToken(value) {
  token = value;
}

/** Called when a signed-in request comes back 401 (the sign-in expired or was revoked). */
export function onUnauthorized(handler) {
  whenUnauthorized = handler;
}

/** The API's answer to a call; a refusal (4xx, 5xx) or no answer at all is thrown as an ApiError. */
async function send(method, path, body, extraHeaders = {}) {
  // The page's language, for what the server writes (its reasons: a problem's title and detail).
  const headers = { Accept: "application/json", "Accept-Language": lang, ...extraHeaders };
  // A file (a picture) is sent as it is; the server reads what it is from its bytes.
  const file = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = file ? body.type || "application/octet-stream" : "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined || file ? body : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, t("api.unreachable"));
  }
  if (!response.ok) {
    const data = await json(response);
    const detail =
      data?.detail || data?.title || t("api.answered", { status: response.status, reason: response.statusText });
    const error = new ApiError(response.status, detail, data);
    if (response.status === 401 && token) whenUnauthorized(error);
    throw error;
  }
  return response;
}

function json(response) {
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json().catch(() => null) : null;
}

async function request(method, path, body, extraHeaders = {}) {
  return json(await send(method, path, body, extraHeaders));
}

/** A file the API sends (a CSV file): `{blob, name}`, named as its Content-Disposition says. */
async function requestFile(path) {
  const response = await send("GET", path, undefined, { Accept: "text/csv, application/problem+json" });
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || "download";
  return { blob: await response.blob(), name };
}

/** "a=1&b=2" from an object's set values (null, undefined and "" are left out). */
function query(values) {
  return new URLSearchParams(Object.entries(values).filter(([, value]) => value != null && value !== "")).toString();
}

const part = encodeURIComponent;

export const api = {
  logIn: (email, password) => request("POST", "/api/v1/auth/login", { email, password }),
  /** With the guest's own token in use, names that guest (same id); without a nickname, a nameless guest. */
  joinAsGuest: (nickname) => request("POST", "/api/v1/auth/guest", nickname ? { nickname } : {}),
  me: () => request("GET", "/api/v1/me"),
  members: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/members`),
  shows: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/shows`),
  createShow: (brandSlug, show) => request("POST", `/api/v1/brands/${part(brandSlug)}/shows`, show),
  /** Only the fields in `changes` change. */
  updateShow: (showId, changes) => request("PATCH", `/api/v1/shows/${part(showId)}`, changes),
  episodes: (showId, includePast = false) =>
    request("GET", `/api/v1/shows/${part(showId)}/episodes${includePast ? "?include_past=true" : ""}`),
  /** A one-off: `{starts_at, title?, duration_minutes?, host_id?}`, `starts_at` in the show's time zone. */
  addEpisode: (showId, episode) => request("POST", `/api/v1/shows/${part(showId)}/episodes`, episode),
  /** Move or change one episode: `{starts_at?, title?, duration_minutes?, host_id?}`. */
  updateEpisode: (episodeId, changes) => request("PATCH", `/api/v1/episodes/${part(episodeId)}`, changes),
  cancelEpisode: (episodeId) => request("POST", `/api/v1/episodes/${part(episodeId)}/cancel`),
  endEpisode: (episodeId) => request("POST", `/api/v1/episodes/${part(episodeId)}/end`),
  broadcast: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/broadcast`),
  // Reports (docs/api.md, "Reports"), for managers; their tables as CSV files (`{blob, name}`).
  episodeReport: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/report`),
  showReport: (showId) => request("GET", `/api/v1/shows/${part(showId)}/report`),
  episodeReportFile: (episodeId, table) =>
    requestFile(`/api/v1/episodes/${part(episodeId)}/report.csv?${query({ table })}`),
  showReportFile: (showId) => requestFile(`/api/v1/shows/${part(showId)}/report.csv?table=episodes`),
  episodeSales: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/sales`),
  publicEpisode: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}`),
  publicShow: (showId) => request("GET", `/api/v1/public/shows/${part(showId)}`),
  /** The show's coming and live episodes, soonest first. */
  showEpisodes: (showId) => request("GET", `/api/v1/public/shows/${part(showId)}/episodes`),
  /** "Remind me": `{email, consent: true, consent_text}` → when the reminder goes (`remind_at`). */
  remindMe: (episodeId, reminder) => request("POST", `/api/v1/public/episodes/${part(episodeId)}/reminders`, reminder),
  /** The chat as the replay shows it, oldest first: `limit` messages sent after `after` (ISO), if given. */
  replayChat: (episodeId, limit, after = null) =>
    request(
      "GET",
      `/api/v1/public/episodes/${part(episodeId)}/chat?limit=${limit}${after ? `&after=${part(after)}` : ""}`,
    ),
  /** Every pin of the episode with its times: the replay's timeline. */
  pinHistory: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}/pins`),
  /** The replay plays on (docs/api.md, "Replay viewers"): `{counting, watched_seconds, beat_seconds}`;
   * `resumed` when it did not play since this viewer's last beat. */
  replayBeat: (episodeId, resumed) =>
    request("POST", `/api/v1/episodes/${part(episodeId)}/replay/beats`, { resumed }),
  /** The replay showed the card of one of the episode's pins over the video. */
  replayCardViewed: (episodeId, pinId) =>
    request("POST", `/api/v1/episodes/${part(episodeId)}/replay/card-views`, { pin_id: pinId }),
  /** The episode's opened polls with their times and results, for the replay. */
  episodePolls: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}/polls`),

  // The shop (docs/commerce-contract.md). Prices are integer minor units, always computed by the server.
  lineup: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}/lineup`),
  setLineup: (episodeId, productIds) =>
    request("PUT", `/api/v1/episodes/${part(episodeId)}/lineup`, { product_ids: productIds }),
  pin: (episodeId, productId) => request("POST", `/api/v1/episodes/${part(episodeId)}/pin`, { product_id: productId }),
  unpin: (episodeId) => request("DELETE", `/api/v1/episodes/${part(episodeId)}/pin`),
  startDeal: (episodeId, deal) => request("POST", `/api/v1/episodes/${part(episodeId)}/pin/deal`, deal),
  stopDeal: (episodeId) => request("DELETE", `/api/v1/episodes/${part(episodeId)}/pin/deal`),
  /** With `archived`, the archived products too. */
  products: (brandSlug, archived = false) =>
    request("GET", `/api/v1/brands/${part(brandSlug)}/products${archived ? "?archived=true" : ""}`),
  createProduct: (brandSlug, product) => request("POST", `/api/v1/brands/${part(brandSlug)}/products`, product),
  updateProduct: (productId, changes) => request("PATCH", `/api/v1/products/${part(productId)}`, changes),
  archiveProduct: (productId) => request("DELETE", `/api/v1/products/${part(productId)}`),
  restoreProduct: (productId) => request("POST", `/api/v1/products/${part(productId)}/restore`),
  /** `file`: a File or Blob → `{picture, product}`. */
  addPicture: (productId, file) => request("POST", `/api/v1/products/${part(productId)}/pictures`, file),
  commerce: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/commerce`),
  importCatalog: (brandSlug, format, content) =>
    request("POST", `/api/v1/brands/${part(brandSlug)}/catalog/import`, { format, content }),
  shipping: (brandSlug) => request("GET", `/api/v1/public/brands/${part(brandSlug)}/shipping`),
  cart: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/cart`),
  /** `{variant_id, quantity, episode_id?}`: from the replay, no units are held; the episode counts the sale. */
  addToCart: (brandSlug, line) => request("POST", `/api/v1/brands/${part(brandSlug)}/cart/items`, line),
  changeCartItem: (brandSlug, itemId, quantity) =>
    request("PATCH", `/api/v1/brands/${part(brandSlug)}/cart/items/${part(itemId)}`, { quantity }),
  removeCartItem: (brandSlug, itemId) =>
    request("DELETE", `/api/v1/brands/${part(brandSlug)}/cart/items/${part(itemId)}`),
  /** The email typed at checkout, before ordering: the cart's one follow-up goes there if it is left. */
  checkoutEmail: (brandSlug, email) => request("PUT", `/api/v1/brands/${part(brandSlug)}/cart/email`, { email }),
  quote: (brandSlug, shipping) => request("POST", `/api/v1/brands/${part(brandSlug)}/checkout/quote`, { shipping }),
  /** `key`: the same Idempotency-Key for a retry of the same order, so it is created once. */
  placeOrder: (brandSlug, order, key) =>
    request("POST", `/api/v1/brands/${part(brandSlug)}/orders`, order, { "Idempotency-Key": key }),

  // The brand's orders (docs/api.md, "Orders"), for its managers. `filters`: {status, episode_id, since, until},
  // each optional; the next page starts after the last order of the one before (`afterId`).
  orders: (brandSlug, filters, afterId = null, limit = 50) =>
    request("GET", `/api/v1/brands/${part(brandSlug)}/orders?${query({ ...filters, after_id: afterId, limit })}`),
  orderTotals: (brandSlug, filters) =>
    request("GET", `/api/v1/brands/${part(brandSlug)}/orders/totals?${query(filters)}`),
  /** The orders' CSV file: `{blob, name}`. */
  ordersFile: (brandSlug, filters) => requestFile(`/api/v1/brands/${part(brandSlug)}/orders.csv?${query(filters)}`),
  order: (orderId) => request("GET", `/api/v1/orders/${part(orderId)}`),
  orderHistory: (orderId) => request("GET", `/api/v1/orders/${part(orderId)}/history`),
  /** `status`: "paid", "fulfilled" or "cancelled". */
  moveOrder: (orderId, status) => request("POST", `/api/v1/orders/${part(orderId)}/status`, { status }),

  // The brand's emails to buyers (docs/api.md, "Emails"), for its managers.
  emails: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/emails`),
  email: (emailId) => request("GET", `/api/v1/emails/${part(emailId)}`),

  // The brand's webhook endpoints and their deliveries (docs/api.md, "Webhooks"), for its managers.
  webhooks: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/webhooks`),
  /** `{url, description, events, enabled}` → the endpoint with its secret (shown this once). */
  addWebhook: (brandSlug, endpoint) => request("POST", `/api/v1/brands/${part(brandSlug)}/webhooks`, endpoint),
  changeWebhook: (endpointId, changes) => request("PATCH", `/api/v1/webhooks/${part(endpointId)}`, changes),
  deleteWebhook: (endpointId) => request("DELETE", `/api/v1/webhooks/${part(endpointId)}`),
  rotateWebhookSecret: (endpointId) => request("POST", `/api/v1/webhooks/${part(endpointId)}/secret`),
  testWebhook: (endpointId) => request("POST", `/api/v1/webhooks/${part(endpointId)}/test`),
  webhookDeliveries: (endpointId) => request("GET", `/api/v1/webhooks/${part(endpointId)}/deliveries`),
  replayWebhookDelivery: (endpointId, deliveryId) =>
    request("POST", `/api/v1/webhooks/${part(endpointId)}/deliveries/${part(deliveryId)}/replay`),

  // Polls and giveaways (docs/api.md, "Polls" and "Giveaways").
  polls: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/polls`),
  createPoll: (episodeId, poll) => request("POST", `/api/v1/episodes/${part(episodeId)}/polls`, poll),
  deletePoll: (pollId) => request("DELETE", `/api/v1/polls/${part(pollId)}`),
  /** `action`: "open" or "close". */
  pollAction: (pollId, action) => request("POST", `/api/v1/polls/${part(pollId)}/${action}`),
  giveaways: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/giveaways`),
  createGiveaway: (episodeId, giveaway) =>
    request("POST", `/api/v1/episodes/${part(episodeId)}/giveaways`, giveaway),
  deleteGiveaway: (giveawayId) => request("DELETE", `/api/v1/giveaways/${part(giveawayId)}`),
  /** `action`: "open", "close", "draw" or "redraw". */
  giveawayAction: (giveawayId, action) => request("POST", `/api/v1/giveaways/${part(giveawayId)}/${action}`),
  myGiveaway: (giveawayId) => request("GET", `/api/v1/giveaways/${part(giveawayId)}/me`),
  claimPrize: (giveawayId, claim) => request("POST", `/api/v1/giveaways/${part(giveawayId)}/claim`, claim),
  proof: (giveawayId) => request("GET", `/api/v1/public/giveaways/${part(giveawayId)}/proof`),
  /** The episode's giveaways that opened, for anyone: after the show, the replay lists their proofs. */
  episodeGiveaways: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}/giveaways`),
};

/** The bearer token in use, for the calls that are not JSON (WHIP). */
export function currentToken() {
  return token;
}

export const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** What to tell the person about a failed call: the API's reason as a sentence, or what went wrong. */
export function messageOf(error) {
  if (error instanceof ApiError) return sentence(error.message);
  // fetch() rejects with a TypeError when the network or the server is down; its words are the
  // browser's ("Failed to fetch"), in English whatever the page's language.
  if (error instanceof TypeError) return t("api.unreachable");
  return t("api.went_wrong", { error: error?.message ?? String(error) });
}
