"""Launching Debian's Chromium so that every packet stays on 127.0.0.1 (see docs in BROWSER-TESTS).

Every browser test starts Chromium through `launch`; only ever navigate to http://127.0.0.1:PORT/...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CI = os.environ.get("CI", "").lower() == "true"

# Chromium keeps only the last feature-disabling switch it is given, so this is Playwright 1.65.2's own list plus
# WebRtcHideLocalIpsWithMdns, in one switch. Re-check Playwright's list when upgrading it.
DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "WebRtcHideLocalIpsWithMdns",
)

CHROMIUM_ARGS = (
    f"--disable-features={','.join(DISABLED_FEATURES)}",
    # No name resolution at all: an error page would otherwise make Chromium query public DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
)


def require_chromium() -> None:
    """Skip without /usr/bin/chromium, or fail when CI=true (CI must run the browser tests)."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium; never `playwright install`)"
    if CI:
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


async def launch(playwright: Playwright, profile_dir: Path, **options: Any) -> BrowserContext:
    """A headless Chromium with a fresh profile, the fake camera and the loopback-only flags."""
    return await playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=list(CHROMIUM_ARGS),
        **options,
    )
