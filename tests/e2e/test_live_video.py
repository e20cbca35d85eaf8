"""Live video in real browsers: a host goes live from the studio, a viewer watches, the show ends.

Every packet stays on 127.0.0.1: the offers and answers carry only loopback candidates and the
connections that were chosen join 127.0.0.1 to 127.0.0.1 (and `make test` runs all this in a
network namespace that has nothing but loopback).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Response, expect

from shopcast import demo

from .conftest import BrowserPage, LiveServer, OpenContext, coming_episodes, sign_in, watched_page

pytestmark = pytest.mark.browser

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ (\S+) \d+ (\S+) \d+ typ (\S+)", re.M)
PHONE = {"width": 390, "height": 844}

SELECTED_PAIR = """
async (name) => {
  const pc = window[name].pc;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) {
    stats.forEach((r) => {
      if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") pair = r;
    });
  }
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return {
    local: local.address || local.ip,
    remote: remote.address || remote.ip,
    protocol: local.protocol,
    bytes: pair.bytesSent + pair.bytesReceived,
  };
}
"""

DESCRIPTIONS = "(name) => [window[name].pc.localDescription.sdp, window[name].pc.remoteDescription.sdp]"


def candidate_addresses(sdp: str) -> list[str]:
    return [address for _transport, address, _kind in CANDIDATE.findall(sdp)]


def assert_loopback_only(label: str, sdp: str) -> None:
    addresses = candidate_addresses(sdp)
    assert addresses, f"{label} has no candidates (no trickle ICE: they must be in the SDP)"
    assert set(addresses) == {"127.0.0.1"}, f"{label} offers {addresses}"


async def sdp_exchange(response: Response) -> tuple[str, str]:
    """The offer a page POSTed to WHIP/WHEP and the answer it got."""
    assert response.status == 201, await response.text()
    assert response.headers["content-type"].startswith("application/sdp")
    offer = response.request.post_data
    assert offer is not None
    return offer, await response.text()


async def assert_selected_pair_is_loopback(page: Page, name: str) -> None:
    pair = await page.evaluate(SELECTED_PAIR, name)
    assert pair is not None, f"{name}: no selected candidate pair"
    assert (pair["local"], pair["remote"]) == ("127.0.0.1", "127.0.0.1"), pair
    assert pair["bytes"] > 0, pair


async def video_state(page: Page, test_id: str) -> dict[str, Any]:
    return await page.evaluate(
        "(id) => { const v = document.querySelector(`[data-testid=${id}]`);"
        " return {width: v.videoWidth, height: v.videoHeight, time: v.currentTime, muted: v.muted}; }",
        test_id,
    )


async def wait_for_frames(page: Page, test_id: str, within_ms: float = 15_000) -> None:
    await page.wait_for_function(
        "(id) => { const v = document.querySelector(`[data-testid=${id}]`);"
        " return v.videoWidth > 0 && v.currentTime > 0; }",
        arg=test_id,
        timeout=within_ms,
    )


async def assert_video_advances(page: Page, test_id: str, seconds: float = 2.0) -> dict[str, Any]:
    before = await video_state(page, test_id)
    await asyncio.sleep(seconds)
    after = await video_state(page, test_id)
    assert after["width"] > 0 and after["height"] > 0, after
    assert after["time"] - before["time"] > seconds / 2, (before, after)
    return after


async def open_studio(page: Page, server: LiveServer, episode_id: str) -> None:
    await page.goto(f"{server.url}/studio/{episode_id}")
    await sign_in(page, "host@demo.shopcast.test", demo.PASSWORD)
    await expect(page.get_by_test_id("episode-title")).to_have_text(demo.SHOW_TITLE)
    await page.wait_for_function("() => document.querySelector('[data-testid=preview]').videoWidth > 0")
    await expect(page.get_by_role("button", name="Go live")).to_be_enabled()


async def go_live(studio: Page, episode_id: str) -> tuple[str, str]:
    whip = f"/live/{episode_id}/whip"
    # The demo's episodes are days ahead: the studio asks before going live so far from the slot.
    await studio.get_by_role("button", name="Go live").click()
    await expect(studio.get_by_test_id("slot-question")).to_contain_text("This episode is planned for")
    async with studio.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(whip)) as posted:
        await studio.get_by_role("button", name="Go live now").click()
    exchange = await sdp_exchange(await posted.value)
    state = studio.get_by_test_id("connection-state")
    await expect(state).to_have_attribute("data-state", "live")
    await expect(state).to_have_text("Live")
    return exchange


async def end_show(studio: Page) -> None:
    await studio.get_by_role("button", name="End show").click()
    await studio.get_by_role("button", name="Yes, end it").click()
    await expect(studio.get_by_test_id("connection-state")).to_have_attribute("data-state", "ended")
    await expect(studio.get_by_test_id("episode-status")).to_have_text("Ended")


async def test_host_goes_live_and_a_viewer_watches_over_webrtc(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    studio, studio_console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]

    # The host's camera and microphone, with pickers listing Chromium's fake devices.
    await open_studio(studio, live_server, episode_id)
    await expect(studio.get_by_test_id("connection-state")).to_have_attribute("data-state", "idle")
    assert await studio.get_by_test_id("camera-select").locator("option").count() >= 1
    assert await studio.get_by_test_id("microphone-select").locator("option").count() >= 1
    await studio.screenshot(path=results_dir / "studio-ready.png")
    codecs = await studio.evaluate("() => RTCRtpSender.getCapabilities('video').codecs.map((c) => c.mimeType)")
    print("Chromium's video codecs:", sorted(set(codecs)))
    assert "video/VP8" in codecs

    # A viewer waiting for the show sees the countdown, on a phone.
    viewer_context = await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True)
    viewer_page = await watched_page(viewer_context)
    viewer, viewer_console = viewer_page.page, viewer_page.console
    await viewer.goto(f"{live_server.url}/watch/{episode_id}")
    player = viewer.get_by_test_id("player")
    await expect(player).to_have_attribute("data-state", "countdown")
    await expect(viewer.get_by_test_id("countdown-value")).to_have_text(re.compile(r"^(\d+ days? )?\d\d:\d\d:\d\d$"))
    await expect(viewer.get_by_test_id("episode-time")).to_contain_text("19:00")  # Paris time, not New York's
    await viewer.screenshot(path=results_dir / "watch-countdown.png")

    # The host goes live; the waiting viewer's page notices by itself and plays over WHEP.
    whep = f"/live/{episode_id}/whep"
    async with viewer.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(whep), timeout=15_000
    ) as watched:
        whip_offer, whip_answer = await go_live(studio, episode_id)
    whep_offer, whep_answer = await sdp_exchange(await watched.value)
    await expect(player).to_have_attribute("data-state", "live")
    await expect(player).to_have_attribute("data-transport", "webrtc")
    await wait_for_frames(viewer, "video")
    frames_before = await viewer.evaluate("() => window.shopcastWatch.framesShown")
    playing = await assert_video_advances(viewer, "video")
    frames_after = await viewer.evaluate("() => window.shopcastWatch.framesShown")
    assert frames_after > frames_before + 10, (frames_before, frames_after)  # pictures, not just a clock
    assert playing["muted"] is True  # autoplay needs it; the viewer unmutes with one tap
    await expect(viewer.get_by_test_id("live-badge")).to_be_visible()
    await expect(studio.get_by_test_id("viewer-count")).to_have_text("1", timeout=10_000)

    # Loopback only: every candidate offered and answered, and the pairs the connections chose.
    for label, sdp in [
        ("WHIP offer", whip_offer),
        ("WHIP answer", whip_answer),
        ("WHEP offer", whep_offer),
        ("WHEP answer", whep_answer),
    ]:
        assert_loopback_only(label, sdp)
    for page, name in [(studio, "shopcastStudio"), (viewer, "shopcastWatch")]:
        local, remote = await page.evaluate(DESCRIPTIONS, name)
        assert_loopback_only(f"{name}'s local description", local)
        assert_loopback_only(f"{name}'s remote description", remote)
        await assert_selected_pair_is_loopback(page, name)

    # Another microphone while live: what viewers get switches to it, without a new connection.
    microphones = studio.get_by_test_id("microphone-select").locator("option")
    assert await microphones.count() >= 2, "Chromium's fake devices include several microphones"
    other_microphone = await microphones.nth(1).get_attribute("value")
    sent_audio = "() => window.shopcastStudio.pc.getSenders().find((s) => s.track?.kind === 'audio').track"
    first_track = await studio.evaluate(f"() => ({sent_audio})().id")
    pc_before = await studio.evaluate("() => window.shopcastStudio.pc.localDescription.sdp")
    await studio.get_by_label("Microphone").select_option(other_microphone)
    await studio.wait_for_function(
        f"(first) => {{ const t = ({sent_audio})(); return t.id !== first && t.readyState === 'live'; }}",
        arg=first_track,
    )
    await expect(studio.get_by_label("Microphone")).to_have_value(other_microphone)
    assert await studio.evaluate("() => window.shopcastStudio.pc.localDescription.sdp") == pc_before

    await viewer.get_by_role("button", name="Tap to unmute").click()
    assert (await video_state(viewer, "video"))["muted"] is False
    await expect(viewer.get_by_role("button", name="Mute")).to_be_visible()
    await studio.screenshot(path=results_dir / "studio-live.png")
    await viewer.screenshot(path=results_dir / "watch-live.png")
    await studio.set_viewport_size(PHONE)
    await studio.screenshot(path=results_dir / "studio-live-mobile.png", full_page=True)
    await studio.set_viewport_size({"width": 1280, "height": 860})

    # When the host's picture stops, the viewer is told why, and the message goes when it is back.
    await studio.evaluate(
        "() => window.shopcastStudio.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')"
        ".sender.replaceTrack(null)"
    )
    stalled = viewer.get_by_test_id("stall-message")
    await expect(stalled).to_be_visible(timeout=8_000)
    await expect(stalled).to_have_text("The host's connection dropped, the show resumes by itself")
    await viewer.screenshot(path=results_dir / "watch-stalled.png")
    await studio.evaluate(
        "() => { const s = window.shopcastStudio; s.pc.getTransceivers()"
        ".find((t) => t.receiver.track.kind === 'video').sender.replaceTrack(s.stream.getVideoTracks()[0]); }"
    )
    await expect(stalled).to_be_hidden(timeout=8_000)

    # The end: the studio says so, and so does the viewer's page (with the replay when there is one).
    viewer_console.expect_http_error(404, f"/live/{episode_id}/hls/index.m3u8")
    await end_show(studio)
    await expect(player).to_have_attribute("data-state", re.compile("^(ended|replay)$"), timeout=10_000)
    await expect(viewer.get_by_test_id("ended-title")).to_have_text("This show has ended")
    await expect(viewer.get_by_test_id("live-badge")).to_be_hidden()
    await expect(viewer.get_by_test_id("chat-closed")).to_have_text("The show has ended: its chat is closed.")
    await expect(viewer.get_by_test_id("nickname-form")).to_be_hidden()
    await expect(studio.get_by_test_id("chat-form")).to_be_hidden()
    await viewer.screenshot(path=results_dir / "watch-ended.png")
    await studio.screenshot(path=results_dir / "studio-ended.png")

    studio_console.assert_clean()
    viewer_console.assert_clean()


async def test_viewer_watches_over_hls_and_then_the_replay(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    studio, studio_console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]
    await open_studio(studio, live_server, episode_id)
    await go_live(studio, episode_id)

    # The manager, on another device, cannot take the stream over while the host is connected.
    other_page = await watched_page(await open_context("manager", viewport=PHONE, is_mobile=True, has_touch=True))
    other, other_console = other_page.page, other_page.console
    other_console.expect_http_error(409, f"/live/{episode_id}/whip")
    await other.goto(f"{live_server.url}/studio/{episode_id}")
    await sign_in(other, "manager@demo.shopcast.test", demo.PASSWORD)
    await expect(other.get_by_test_id("episode-status")).to_have_text("Live")
    await other.get_by_role("button", name="Go live again").click()
    await expect(other.get_by_test_id("studio-error")).to_have_text("Someone is already publishing this episode")
    await expect(other.get_by_test_id("connection-state")).to_have_attribute("data-state", "idle")
    await other.screenshot(path=results_dir / "studio-refused-mobile.png", full_page=True)
    await other.context.close()

    # ?transport=hls: for networks that block WebRTC. The first segments take a few seconds.
    viewer_page = await watched_page(await open_context("viewer", viewport={"width": 1280, "height": 800}))
    viewer, viewer_console = viewer_page.page, viewer_page.console
    viewer_console.expect_http_error(404, f"/live/{episode_id}/hls/index.m3u8")
    await viewer.goto(f"{live_server.url}/watch/{episode_id}?transport=hls")
    player = viewer.get_by_test_id("player")
    await expect(player).to_have_attribute("data-transport", "hls", timeout=10_000)
    await wait_for_frames(viewer, "video", within_ms=20_000)
    await assert_video_advances(viewer, "video")
    assert await viewer.evaluate("() => window.shopcastWatch.pc") is None  # no WebRTC at all
    # Close to live: two segments behind the newest, not hls.js's default three (the replay keeps it).
    live_sync = "() => window.shopcastWatch.hls.config.liveSyncDurationCount"
    assert await viewer.evaluate(live_sync) == 2
    await viewer.screenshot(path=results_dir / "watch-live-hls.png")

    await end_show(studio)
    await expect(player).to_have_attribute("data-state", "replay", timeout=15_000)
    await expect(viewer.get_by_test_id("ended-title")).to_have_text("This show has ended")
    await expect(viewer.get_by_test_id("replay-badge")).to_be_visible()
    await viewer.screenshot(path=results_dir / "watch-replay-offered.png")
    await viewer.get_by_role("button", name="Watch the replay").click()
    assert await viewer.evaluate(live_sync) == 3
    assert await viewer.evaluate("() => document.querySelector('[data-testid=video]').controls") is True
    await wait_for_frames(viewer, "video")
    await assert_video_advances(viewer, "video", seconds=1.5)
    await viewer.screenshot(path=results_dir / "watch-replay.png")

    studio_console.assert_clean()
    viewer_console.assert_clean()
    other_console.assert_clean()


async def test_watch_page_for_a_cancelled_unknown_or_malformed_episode(
    live_server: LiveServer, browser_page: BrowserPage
) -> None:
    page, console = browser_page.page, browser_page.console
    second = (await coming_episodes(live_server))[1]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as session:
        login = {"email": "manager@demo.shopcast.test", "password": demo.PASSWORD}
        async with session.post("/api/v1/auth/login", json=login) as response:
            token = (await response.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(f"/api/v1/episodes/{second}/cancel", headers=headers) as response:
            assert response.status == 200

    await page.goto(f"{live_server.url}/watch/{second}")
    await expect(page.get_by_test_id("player")).to_have_attribute("data-state", "cancelled")
    await expect(page.get_by_test_id("ended-title")).to_have_text("This episode was cancelled")

    unknown = uuid.uuid4()
    console.expect_http_error(404, f"/api/v1/public/episodes/{unknown}")
    console.expect_http_error(404, f"/watch/{unknown}")  # the page itself says 404, for crawlers
    response = await page.goto(f"{live_server.url}/watch/{unknown}")
    assert response is not None and response.status == 404
    await expect(page.get_by_test_id("ended-title")).to_have_text("There is no such show")

    for path in ("/watch/not-an-episode", "/studio/not-an-episode"):
        console.expect_http_error(404, path)
        response = await page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", name="There is no such page")).to_be_visible()
    console.assert_clean()
