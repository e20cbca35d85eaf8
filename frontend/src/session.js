// The staff sign-in shared by the manager page and the studio: a token kept for this browser tab only.

import { api, messageOf, useToken } from "./api.js";
import { show } from "./dom.js";

const SESSION_KEY = "shopcast.session";

/** The tab's sign-in if it has not expired, else null. */
export function savedSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved?.token && new Date(saved.expires_at) > new Date()) return saved;
  } catch {
    // A damaged entry is the same as none.
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
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
    submit.textContent = "Signing in…";
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
      submit.textContent = "Sign in";
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
