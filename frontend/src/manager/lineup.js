// The manager page's lineup of one coming episode: the products the host will show, in order, planned
// before the show with the studio's own editor (staff/lineup.js). Viewers see them on the episode's page
// while they wait for it.

import { byTestIds, noticeLine, show } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { lineupEditor } from "../staff/lineup.js";

/** Sets up the panel; `open(episode, show)` fills it for one episode of the brand `brandSlug()`. */
export function setUpManagerLineup({ brandSlug }) {
  const ui = byTestIds(["lineup-panel", "lineup-panel-title", "lineup-close", "lineup-notice"]);
  const notice = noticeLine(ui.lineupNotice);
  const editor = lineupEditor({ notice });
  let opener = null; // the button that opened the panel, where the keyboard goes back on closing

  function title(episode, owner) {
    ui.lineupPanelTitle.textContent = t("manager_lineup.title", { when: episodeTime(episode.starts_at, owner.time_zone) });
  }

  function close() {
    editor.clear();
    show(ui.lineupPanel, false);
  }

  ui.lineupClose.addEventListener("click", () => {
    close();
    if (opener?.isConnected) opener.focus();
  });

  return {
    /** Show the products of `episode` (of the show `owner`), to put in order. */
    async open(episode, owner) {
      opener = document.activeElement;
      title(episode, owner);
      notice("");
      editor.clear();
      show(ui.lineupPanel);
      ui.lineupPanelTitle.focus();
      await editor.load(episode.id, brandSlug());
    },
    close,
    /** The episode changed elsewhere on the page: a new time in the title; cancelled, nothing to plan. */
    changed(episode, owner) {
      if (episode.id !== editor.episodeId) return;
      if (episode.status === "cancelled") close();
      else title(episode, owner);
    },
  };
}
