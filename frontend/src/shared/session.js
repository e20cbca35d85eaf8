// Sign-ins: staff (manager page, studio) keep their token for this browser tab only; a guest viewer's
// nickname and token stay in this browser, so a reload keeps the same chat identity.

import { ApiError, api, messageOf, useToken } from "./api.js";
import { show } from "./dom.js";
import { t } from "./i18n.js";

const SESSION_KEY = "shopcast.session";

/** The data-testids of what a staff page with a sign-in has: the notice, the account menu, the form. */
export const SIGN_IN_PARTS = [
  "notice",
  "account",
  "account-name",
  "sign-out",
  "sign-in",
  "sign-in-form",
  "sign-in-error",
  "sign-in-submit",
];
const GUEST_KEY = "shopcast.guest";

function unexpired(storage, key) {
  try {
    const saved = JSON.parse(storage.getItem(key) || "null");
    if (saved?.token && new Date(saved.expires_at) > new Date()) return saved;
  } catch {
    // A damaged entry is the same as none.
  }
  storage.removeItem(key);
  return null;
}

/** The tab's sign-in if it has not expired, else null. */
export function savedSession() {
  return unexpired(sessionStorage, SESSION_KEY);
}

/** This browser's guest `{token, expires_at, name, id}` if it has not expired, else null (name "": nameless). */
export function savedGuest() {
  return unexpired(localStorage, GUEST_KEY);
}

/**
 * Become a guest viewer with `nickname`, or a nameless one (null: votes, enters and buys, cannot chat).
 * A guest of this browser who picks a nickname stays the same guest (their votes and entries stay
 * theirs). Refusals (a too short name, too many guests) throw ApiError.
 */
export async function joinAsGuest(nickname = null) {
  const saved = savedGuest();
  let result;
  try {
    useToken(saved?.token ?? null);
    result = await api.joinAsGuest(nickname);
  } catch (error) {
    // A token the server no longer takes (its key changed): a new guest instead.
    if (!(error instanceof ApiError && error.status === 401 && saved)) throw error;
    forgetGuest();
    useToken(null);
    result = await api.joinAsGuest(nickname);
  }
  const guest = { token: result.token, expires_at: result.expires_at, name: result.me.name, id: result.me.id };
  localStorage.setItem(GUEST_KEY, JSON.stringify(guest));
  useToken(guest.token);
  return guest;
}

export function forgetGuest() {
  localStorage.removeItem(GUEST_KEY);
}

export function forgetSession() {
  useToken(null);
  sessionStorage.removeItem(SESSION_KEY);
}

/**
 * Wire a sign-in form (inputs named email and password) with its error line and submit button.
 * `onSignedIn(me)` runs after a good sign-in, with the token in use and kept for the tab.
 */
export function setUpSignIn({ form, error, submit, onSignedIn }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { email, password } = form.elements;
    error.textContent = "";
    submit.disabled = true;
    submit.textContent = t("sign_in.signing_in");
    try {
      const result = await api.logIn(email.value, password.value);
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: result.token, expires_at: result.expires_at }));
      useToken(result.token);
      password.value = "";
      await onSignedIn(result.me);
    } catch (problem) {
      error.textContent = messageOf(problem);
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t("sign_in.submit");
    }
  });
}

/**
 * Forget the tab's sign-in and show the sign-in form (`ui.signIn`) instead of the account menu,
 * with `message` saying why; the caller hides its own signed-in view.
 */
export function showSignInForm(ui, message = "") {
  forgetSession();
  show(ui.account, false);
  show(ui.signIn);
  ui.signInError.textContent = message;
  ui.signInForm.elements.email.focus();
}

/**
 * A staff page opening: with the tab's sign-in still good, `onSignedIn(me)`; without one, or with one
 * the server no longer takes, `showSignIn(reason)` (a 401 has already said so through onUnauthorized).
 */
export async function resumeSession({ onSignedIn, showSignIn }) {
  const saved = savedSession();
  if (!saved) {
    showSignIn();
    return;
  }
  useToken(saved.token);
  try {
    await onSignedIn(await api.me());
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showSignIn(messageOf(error));
  }
}
