// The JSON API as the pages see it: one fetch wrapper that turns problem JSON into ApiError.

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

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "Shopcast cannot be reached. Check your connection and try again.");
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const detail = data?.detail || data?.title || `The server answered ${response.status} ${response.statusText}.`;
    const error = new ApiError(response.status, detail, data);
    if (response.status === 401 && token) whenUnauthorized(error);
    throw error;
  }
  return data;
}

const part = encodeURIComponent;

export const api = {
  logIn: (email, password) => request("POST", "/api/v1/auth/login", { email, password }),
  joinAsGuest: (nickname) => request("POST", "/api/v1/auth/guest", { nickname }),
  me: () => request("GET", "/api/v1/me"),
  members: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/members`),
  shows: (brandSlug) => request("GET", `/api/v1/brands/${part(brandSlug)}/shows`),
  createShow: (brandSlug, show) => request("POST", `/api/v1/brands/${part(brandSlug)}/shows`, show),
  episodes: (showId) => request("GET", `/api/v1/shows/${part(showId)}/episodes`),
  cancelEpisode: (episodeId) => request("POST", `/api/v1/episodes/${part(episodeId)}/cancel`),
  endEpisode: (episodeId) => request("POST", `/api/v1/episodes/${part(episodeId)}/end`),
  broadcast: (episodeId) => request("GET", `/api/v1/episodes/${part(episodeId)}/broadcast`),
  publicEpisode: (episodeId) => request("GET", `/api/v1/public/episodes/${part(episodeId)}`),
  replayChat: (episodeId, limit) => request("GET", `/api/v1/public/episodes/${part(episodeId)}/chat?limit=${limit}`),
};

/** The bearer token in use, for the calls that are not JSON (WHIP). */
export function currentToken() {
  return token;
}

export const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** What to tell the person about a failed call: the API's reason as a sentence, or what went wrong. */
export function messageOf(error) {
  return error instanceof ApiError ? sentence(error.message) : `Something went wrong: ${error}`;
}
