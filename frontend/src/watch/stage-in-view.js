// On a phone the video stays in sight while the viewer reads and writes in the chat under it: the
// page's CSS keeps the stage at the top of the screen and sizes the chat to the rest of it; this
// tells the CSS how tall the stage is (--stage-height) and, while the viewer writes (body[data-typing]),
// where the visible part of the page starts (--visual-top). The on-screen keyboard shrinks the
// visual viewport, not the layout: when the browser slides the page up to show the text box, the
// stage follows instead of going off screen.

/** Follows `stage`'s height and the typing in `writing` (the chat panel's forms). */
export function keepStageInView({ stage, writing }) {
  const root = document.documentElement;
  const viewport = window.visualViewport;
  new ResizeObserver(() => root.style.setProperty("--stage-height", `${stage.offsetHeight}px`)).observe(stage);

  const typing = () => document.body.hasAttribute("data-typing");
  const follow = () => {
    const top = typing() && viewport ? Math.max(0, viewport.offsetTop) : 0;
    root.style.setProperty("--visual-top", `${top}px`);
  };
  const isTextBox = (node) => node?.matches?.("input:not([type=checkbox]), textarea");

  writing.addEventListener("focusin", (event) => {
    if (!isTextBox(event.target)) return;
    document.body.toggleAttribute("data-typing", true);
    follow();
  });
  writing.addEventListener("focusout", (event) => {
    if (isTextBox(event.relatedTarget) && writing.contains(event.relatedTarget)) return;
    document.body.toggleAttribute("data-typing", false);
    follow();
  });
  viewport?.addEventListener("resize", follow);
  viewport?.addEventListener("scroll", follow);
}
