// WHIP and WHEP as the pages speak them: one SDP offer with every candidate in it, one answer back.

import { ApiError } from "./api.js";
import { lang, t } from "./i18n.js";

let configuration = null;

/**
 * The RTCPeerConnection configuration: the STUN/TURN servers the operator set (SHOPCAST_ICE_SERVERS).
 * None set means none used: never a default, which would contact a stranger's server.
 */
export function peerConfiguration() {
  configuration ??= fetch("/api/v1/public/webrtc", { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : { ice_servers: [] }))
    .then((body) => ({
      iceServers: body.ice_servers.map(({ urls, username, credential }) =>
        username ? { urls, username, credential } : { urls },
      ),
    }))
    .catch(() => {
      configuration = null; // ask again next time
      return { iceServers: [] };
    });
  return configuration;
}

/** Resolves when the connection has gathered every candidate, or after `timeoutMs` with what it has. */
export function gatheringComplete(pc, timeoutMs = 4000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * Offer → answer through a WHIP or WHEP endpoint: sets both descriptions on `pc`.
 * Resolves with the session's address (to DELETE when leaving); refusals become ApiError with the reason.
 */
export async function exchangeSdp(pc, endpoint, { token = null } = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  // The page's language, for the reason of a refusal.
  const headers = { "Content-Type": "application/sdp", Accept: "application/sdp", "Accept-Language": lang };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(endpoint, { method: "POST", headers, body: pc.localDescription.sdp, credentials: "omit" });
  } catch {
    throw new ApiError(0, t("api.unreachable"));
  }
  if (response.status !== 201) {
    const problem = await response.json().catch(() => null);
    const fallback = t("api.answered", { status: response.status, reason: response.statusText });
    const detail = problem?.detail || problem?.title || fallback;
    throw new ApiError(response.status, detail, problem);
  }
  const answer = await response.text();
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  const location = response.headers.get("Location");
  return location ? new URL(location, window.location.href).pathname : null;
}

/** Hang up a WHIP/WHEP session; also works while the page is being closed. */
export function deleteSession(location, { token = null } = {}) {
  if (!location) return Promise.resolve();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return fetch(location, { method: "DELETE", headers, keepalive: true, credentials: "omit" }).catch(() => {});
}
