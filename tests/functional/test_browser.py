"""The phone in a real browser: ``phone-sim serve`` in headless Chromium (issue #15).

Debian's Chromium (/usr/bin/chromium, package ``chromium``) is driven by Playwright with
``executable_path``; nothing is downloaded. Without Chromium the test is skipped with the
package's name, unless ``PHONE_SIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.

textual-serve's page draws the terminal on a canvas, so the page has no text to read: the test
reads what the app sent to the page over its websocket (the terminal's own byte stream, escape
sequences stripped) and waits for each screen's words before pressing the next key, as a person
waits to see the screen. Keys reach the app once the terminal has focus (a click on it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.device.sims import CARRIERS

CHROMIUM = Path("/usr/bin/chromium")
#: launch flags for a closed network (no background connections) and a root user
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSI = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
LOCK_WORDS = "Xiaomi policy does not permit"

pytestmark = pytest.mark.slow


def _browser_or_skip() -> None:
    if CHROMIUM.exists() and shutil.which("chromium"):
        return
    message = f"no {CHROMIUM}: install Debian's package 'chromium' (apt-get install chromium)"
    if os.environ.get("PHONE_SIM_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_phone(tmp_path: Path) -> Iterator[str]:
    """``phone-sim --data DIR serve`` on a loopback port; yields its URL."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_sim.cli", "--data", str(tmp_path / "data"), "serve",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Terminal:
    """What the app sent to the page's terminal, as text."""

    def __init__(self) -> None:
        self.raw = bytearray()

    def received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.raw += payload

    def text_since(self, mark: int) -> str:
        return ANSI.sub(b" ", bytes(self.raw[mark:])).decode("utf-8", "replace")


def test_boot_cubacel_activation_and_three_days_later_the_lock_in_a_browser(
    served_phone: str, tmp_path: Path
) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    terminal = Terminal()
    offsite: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user data directory
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
        )
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.on("websocket", lambda ws: ws.on("framereceived", terminal.received))
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(served_phone)
                    or request.url.startswith("ws://127.0.0.1")
                    else offsite.append(request.url)
                ),
            )
            page.goto(served_phone)

            def wait_for(words: str, since: int = 0, timeout: float = 30.0) -> int:
                deadline = time.monotonic() + timeout
                while words not in terminal.text_since(since):
                    if time.monotonic() > deadline:
                        page.screenshot(path=str(tmp_path / "stuck.png"))
                        tail = terminal.text_since(max(0, len(terminal.raw) - 3000))
                        raise AssertionError(f"never saw {words!r}; last text: {tail!r}")
                    page.wait_for_timeout(100)
                return len(terminal.raw)

            def press(*keys: str) -> int:
                mark = len(terminal.raw)
                for key in keys:
                    page.keyboard.press(key)
                    page.wait_for_timeout(80)
                return mark

            def choose_carrier(name: str) -> None:
                """Move the tray's list to ``name`` and insert it. A loaded machine may lose an
                arrow key on its way (seen: two of six); the tray says which carrier went in,
                so the list is moved on from there until it is ``name``."""
                order = list(CARRIERS)
                at = 0  # the list opens on its first carrier
                for _ in range(4):
                    steps = order.index(name) - at
                    arrows = ["ArrowDown" if steps > 0 else "ArrowUp"] * abs(steps)
                    mark = press(*arrows, "Enter")
                    wait_for(" in slot 1", mark)
                    text = terminal.text_since(mark)
                    said = {c: text.rfind(f"{c} in slot 1") for c in order}
                    inserted = max(said, key=lambda c: said[c])
                    if inserted == name:
                        return
                    at = order.index(inserted)
                raise AssertionError(f"could not insert {name}")

            wait_for("Welcome")  # after the bootloader and the logo
            page.locator(".textual-terminal").click()  # keys reach the app once it has focus
            wait_for("SIM cards", press("Enter"))  # the first language
            wait_for("SIM tray", press("t"))
            choose_carrier("Cubacel")
            press("Escape")
            # An Escape byte waits a moment for what may follow it (an escape sequence):
            # a key pressed at once would arrive as Alt+key.
            page.wait_for_timeout(600)
            wait_for("Mobile network", press("Enter"))
            wait_for("roaming: no", 0)
            press("Enter")  # Next: checking activation
            wait_for("Activated", timeout=60)  # the home screen: the vendor activated it
            wait_for(LOCK_WORDS, press("a"), timeout=90)  # +3 days: the lock lands
            page.wait_for_timeout(500)
            page.screenshot(path=str(tmp_path / "locked.png"))
            shots = os.environ.get("PHONE_SIM_BROWSER_SHOTS")
            if shots:  # for a person to look at (make test keeps it under .pytest_cache)
                Path(shots).mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp_path / "locked.png", Path(shots) / "browser-locked.png")
        finally:
            browser.close()
    assert (tmp_path / "locked.png").stat().st_size > 10_000
    assert not offsite, f"the page fetched from outside this machine: {offsite}"
