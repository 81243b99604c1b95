"""Waiting for the app under Pilot: a condition, or a screen that is up and takes keys.

A screen is on the stack before its widgets are mounted, and keys go to the focused widget's
screen: a test that presses keys or reads widgets as soon as ``app.screen`` changes races the
screen's mount (seen at load 16: ``NoMatches '#mcc'`` on a tray just pushed). ``on_screen``
waits for the screen and for the focus to be on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen


async def wait_until(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Let the app run until ``predicate`` holds; fail with a clear message if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            app = pilot.app
            world = getattr(app, "world", None)
            detail = ""
            if world is not None:
                phone = app.phone  # type: ignore[attr-defined]
                detail = (
                    f"; phone {phone.state.value}, pending {phone.pending is not None}, "
                    f"fast-forward to {getattr(app, 'fast_forward_to', None)}, "
                    f"clock {world.clock.now()}, next check-in {phone.next_checkin_at}, "
                    f"last error {phone.last_error}"
                )
            raise AssertionError(f"timed out; screen is {type(app.screen).__name__}{detail}")
        await pilot.pause(0.02)


async def focused_on_screen(pilot: Pilot[None]) -> None:
    """Wait until the screen in view has taken the focus (its widgets are mounted)."""
    await wait_until(
        pilot,
        lambda: pilot.app.focused is not None and pilot.app.focused.screen is pilot.app.screen,
    )


async def on_screen(pilot: Pilot[None], kind: type[Screen[object]]) -> None:
    """Wait until a ``kind`` screen is in view, mounted, done with its first drawing (its
    ``ready``, for the screens that have one) and focused: ready for keys."""
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, kind) and getattr(pilot.app.screen, "ready", True),
    )
    await focused_on_screen(pilot)
