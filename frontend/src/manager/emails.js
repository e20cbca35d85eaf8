// The manager page's emails (managers): every email Shopcast wrote to the brand's buyers with where it
// stands (sent, to be tried again, given up), and one opened as it was sent: its headers, its HTML part
// in a sandboxed frame (nothing of it runs) and its text part. Without an SMTP server nothing is sent:
// this is where a newcomer reads what would have gone.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { browserTimeZone, episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const SHOWN_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "Content-Language"];

/** Sets up the emails view; `notify(text, kind)` says what happened at the top of the page. */
export function setUpEmails({ notify }) {
  const ui = byTestIds([
    "emails-view",
    "emails-refresh",
    "emails-loading",
    "email-list",
    "no-emails",
    "email-detail",
    "email-subject",
    "email-status",
    "email-headers",
    "email-html",
    "email-text",
  ]);

  let membership = null;
  let loads = 0; // the list's, and apart from them the opened email's: each may come first
  let opens = 0;
  let loaded = false;
  let openId = null;

  const when = (iso) => episodeTime(iso, browserTimeZone());
  // Reminders and follow-ups go to an address without a name.
  const recipient = (email) => (email.to_name ? `${email.to_name} <${email.to}>` : email.to);

  function status(email) {
    if (email.state === "failed") return t("emails.retry_at", { when: when(email.next_try_at) });
    if (email.state === "sent" && email.kept) return t("emails.kept");
    return t(`emails.state_${email.state}`);
  }

  async function load() {
    const attempt = ++loads;
    loaded = true;
    show(ui.emailsLoading);
    show(ui.noEmails, false);
    try {
      const emails = await api.emails(membership.brand.slug);
      if (attempt !== loads) return;
      ui.emailList.replaceChildren(...emails.map(row));
      show(ui.noEmails, emails.length === 0);
    } catch (error) {
      if (attempt === loads) notify(t("emails.failed", { error: messageOf(error) }), "error");
    } finally {
      if (attempt === loads) show(ui.emailsLoading, false);
    }
  }

  function row(email) {
    return el(
      "li",
      {},
      el(
        "button",
        {
          type: "button",
          class: "email-row",
          "data-testid": "email-row",
          "data-email-id": email.id,
          "aria-current": email.id === openId ? "true" : false,
          onclick: () => open(email.id),
        },
        el("span", { class: "email-row-subject", "data-testid": "email-row-subject", text: email.subject }),
        el("span", { class: "email-row-meta", text: `${recipient(email)} · ${when(email.created_at)}` }),
        el("span", {
          class: "email-state",
          "data-state": email.state,
          "data-testid": "email-row-state",
          text: t(`emails.state_${email.state}`),
        }),
      ),
    );
  }

  async function open(emailId) {
    const attempt = ++opens;
    openId = emailId;
    for (const button of ui.emailList.querySelectorAll("[data-email-id]")) {
      button.setAttribute("aria-current", String(button.dataset.emailId === emailId));
    }
    try {
      const email = await api.email(emailId);
      if (attempt !== opens) return;
      render(email);
    } catch (error) {
      if (attempt === opens) notify(t("emails.open_failed", { error: messageOf(error) }), "error");
    }
  }

  function render(email) {
    show(ui.emailDetail);
    ui.emailSubject.textContent = email.subject;
    const problem = email.last_error ? t("emails.last_error", { error: email.last_error }) : "";
    ui.emailStatus.textContent = [status(email), problem].filter(Boolean).join(" ");
    ui.emailStatus.dataset.state = email.state;
    const headers = new Map(email.headers.map((h) => [h.name, h.value]));
    ui.emailHeaders.replaceChildren(
      ...SHOWN_HEADERS.filter((name) => headers.has(name)).flatMap((name) => [
        el("dt", { text: name }),
        el("dd", { "data-testid": `email-header-${name.toLowerCase()}`, text: headers.get(name) }),
      ]),
    );
    ui.emailHtml.src = email.html_url;
    ui.emailText.textContent = email.text;
    ui.emailSubject.focus();
  }

  ui.emailsRefresh.addEventListener("click", () => load());

  return {
    setBrand(next) {
      membership = next;
      loaded = false;
      loads += 1;
      opens += 1;
      openId = null;
      ui.emailList.replaceChildren();
      show(ui.emailDetail, false);
      ui.emailHtml.removeAttribute("src");
    },
    showView(visible) {
      show(ui.emailsView, visible);
      if (visible && !loaded && membership) load();
    },
    /** Open one email (from an order's history), and read the list again when the view is next shown:
     * the email may be newer than the list. */
    reveal(emailId) {
      loaded = false;
      open(emailId);
    },
  };
}
