"""How a fleet's round shares its devices among worker threads (``phone_sim.fleet.rounds``):
every device once per round; each worker its own share, in order, then the others' tail; each
worker's session (its connection) kept from round to round, so a device's check-in goes the way
its activation went (docs/decisions/fleet-devices-keep-their-connection.md); the workers take the
server processes' URLs in turn (docs/decisions/fleet-connections-spread-over-server-processes.md)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from phone_sim.fleet.report import Phase, Progress
from phone_sim.fleet.rounds import Line, LocalRounds, _Shares
from phone_sim.protocol.contact import ContactKind


def test_a_worker_takes_its_own_share_in_order_then_the_largest_tail() -> None:
    shares = _Shares(10, 3)  # shares: 0 3 6 9 | 1 4 7 | 2 5 8
    taken = [shares.next(0) for _ in range(4)]
    assert taken == [0, 3, 6, 9]
    taken.append(shares.next(1))
    assert taken[-1] == 1
    # Worker 0's share is done: it takes the last of the largest share left (worker 2's).
    taken.append(shares.next(0))
    assert taken[-1] == 8
    while (index := shares.next(1)) is not None:
        taken.append(index)
    assert taken[6:8] == [4, 7]  # worker 1's own, in order, before any other's
    assert sorted(i for i in taken if i is not None) == list(range(10))
    assert shares.next(2) is None


def test_more_workers_than_devices() -> None:
    shares = _Shares(2, 5)
    got = [shares.next(w) for w in range(5)] + [shares.next(0)]
    assert sorted(i for i in got if i is not None) == [0, 1]
    assert got.count(None) == 4


class _Recording:
    """Stands in for the exchange: notes which session each device went through, and where."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[int, int]] = []
        self.urls: Counter[str] = Counter()

    def __call__(self, device: Any, line: Line) -> tuple[float, None, str]:
        with self.lock:
            self.calls.append((device, id(line.session)))
            self.urls[line.url] += 1
        return 0.001, None, "ok"


URLS = ("http://127.0.0.1:1001", "http://127.0.0.1:1002")


def _rounds(devices: int, workers: int) -> tuple[LocalRounds, _Recording, list[Any]]:
    recording = _Recording()
    # The check-in step skips devices in no state to check in; the activation step boots them:
    # this test's devices are their indexes, stepped by the recording directly.
    rounds = LocalRounds([], recording, workers, Progress(enabled=False), URLS)  # type: ignore[arg-type]
    indexes: list[Any] = list(range(devices))
    rounds.devices = indexes
    return rounds, recording, indexes


def test_every_device_once_per_round_and_sessions_kept_across_rounds(monkeypatch: Any) -> None:
    import phone_sim.fleet.rounds as rounds_module

    rounds, recording, devices = _rounds(200, 8)
    monkeypatch.setattr(rounds_module, "step_for", lambda kind, exchange, moved: exchange)
    first, second = Phase("activation", 200), Phase("check-in", 200)
    rounds.run(first, ContactKind.ACTIVATION, False)
    after_first = list(recording.calls)
    rounds.run(second, ContactKind.CHECKIN, True)
    after_second = recording.calls[len(after_first) :]
    try:
        for calls, phase in ((after_first, first), (after_second, second)):
            assert Counter(device for device, _ in calls) == Counter(devices)
            assert phase.requests == 200
        sessions_first = {session for _, session in after_first}
        sessions_second = {session for _, session in after_second}
        # The same eight sessions in both rounds: their connections stay open between them.
        assert len(sessions_first) <= 8 and sessions_second <= sessions_first
    finally:
        rounds.close()


def test_closing_the_rounds_closes_their_sessions(monkeypatch: Any) -> None:
    rounds, _, _ = _rounds(1, 3)
    closed: list[int] = []
    for line in rounds.lines:
        session = line.session
        monkeypatch.setattr(session, "close", lambda s=session: closed.append(id(s)))
    rounds.close()
    assert len(closed) == 3


def test_the_workers_take_the_servers_urls_in_turn(monkeypatch: Any) -> None:
    import phone_sim.fleet.rounds as rounds_module

    rounds, recording, _ = _rounds(400, 8)

    def exchange(device: Any, line: Line) -> tuple[float, None, str]:
        time.sleep(0.001)  # a round trip's wait: every worker gets to work on its share
        return recording(device, line)

    monkeypatch.setattr(rounds_module, "step_for", lambda kind, _, moved: exchange)
    try:
        assert [line.url for line in rounds.lines] == list(URLS) * 4
        rounds.run(Phase("activation", 400), ContactKind.ACTIVATION, False)
    finally:
        rounds.close()
    # Four workers each; only the round's shared tail can move a device to the other's.
    assert sum(recording.urls.values()) == 400
    assert all(150 <= recording.urls[url] <= 250 for url in URLS), recording.urls


def test_a_round_in_which_no_device_was_due_says_so() -> None:
    empty = Phase("check-in 2 (+48 h)", 100)
    assert empty.line() == "check-in 2 (+48 h): 0 requests: no device was due for a check-in"
    empty.record(0.01, "timeout", None)  # a request that failed is a request
    assert (
        empty.line().startswith("check-in 2 (+48 h): 1 requests in") and "1 error" in empty.line()
    )
