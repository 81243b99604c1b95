"""The kit's account cases (``ACC-*``, PROTOCOL.md section 13) against our server broken on purpose.

The minimal server speaks version 1 and skips them (it does not declare ``accounts``), so the
broken servers here are ours, each with one rule of section 13.2 undone in its own process's
code (a patch of the engine's function that enforces it, as a server with that one bug would
have it). Against each, exactly the case that checks that rule fails (and, for two rules, a case
that builds on it: ``ALSO_FAILING``), and every other account case still passes: the cases tell
the rules apart, and a server that breaks none passes them all (``test_conformance_kit.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from phone_sim.conformance.cases import CASES
from phone_sim.conformance.features import Feature
from phone_sim.conformance.registry import Kind
from phone_sim.conformance.runner import Verdict, run_cases
from phone_sim.protocol.account import AccountAction
from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.errors import MalformedMessage
from server_stub.engine import accounts
from server_stub.store.accounts import AccountRows
from tests.support.conformance import our_server

ACCOUNT_CASES = [case for case in CASES.values() if Feature.ACCOUNTS in case.needs]
Break = Callable[[pytest.MonkeyPatch], None]


def _box_of_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check 9: the request's nonce is not bound to its sealed password (the server tries the
    nonces it has seen until one opens the box)."""
    seen: list[str] = []
    real = accounts.open_password

    def open_password(secret: Any, sealed: str, *, nonce: str, **context: str) -> str:
        seen.append(nonce)
        for tried in reversed(seen):
            try:
                return real(secret, sealed, nonce=tried, **context)
            except MalformedMessage:
                continue
        raise MalformedMessage("account.password does not open")

    monkeypatch.setattr(accounts, "open_password", open_password)


def _any_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check 10: no length or character rule for a password."""
    monkeypatch.setattr(accounts, "password_problem", lambda password: None)


def _lets(action: AccountAction) -> Break:
    """Check 11, for ``action`` only: it is taken whatever the device's binding."""

    def broken(monkeypatch: pytest.MonkeyPatch) -> None:
        real = accounts._problem

        def problem(asked: AccountAction, name: str, binding: Any) -> str | None:
            return None if asked is action else real(asked, name, binding)

        monkeypatch.setattr(accounts, "_problem", problem)

    return broken


def _no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check 12, for the account: no limit on its wrong passwords."""
    monkeypatch.setattr(accounts, "MAX_WRONG_PER_ACCOUNT", 10**6)


def _every_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check 13: every password is the account's."""
    monkeypatch.setattr(accounts, "password_matches", lambda account, password: True)


def _version_1_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 13.2: an account request saying ``"protocol": 1`` is taken as version 2."""
    real = AccountRequest.decode.__func__  # type: ignore[attr-defined]

    def decode(cls: type[AccountRequest], raw: bytes) -> AccountRequest:
        decoded: AccountRequest = real(cls, raw.replace(b'"protocol":1,', b'"protocol":2,', 1))
        return decoded

    monkeypatch.setattr(AccountRequest, "decode", classmethod(decode))


def _never_engaged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 13.2, the lock: an activation of a bound device never engages it."""
    monkeypatch.setattr(
        accounts, "engage", lambda rows, serial, kind, *, now: (rows.binding(serial), False)
    )


def _sign_out_keeps_the_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 13.2: ``sign_out`` answers, but the device stays bound."""
    monkeypatch.setattr(AccountRows, "drop_binding", lambda rows, serial: None)


def _find_device_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 13.2, the lock: a reset engages it whether Find Device is on or off."""
    real = accounts.engage

    def engage(rows: AccountRows, serial: str, kind: Any, *, now: int) -> Any:
        binding = rows.binding(serial)
        if binding is not None and not binding.find_device:
            rows.save_binding(replace(binding, find_device=True))
        return real(rows, serial, kind, now=now)

    monkeypatch.setattr(accounts, "engage", engage)


#: each broken rule, and the one account case that must fail against it
BROKEN: dict[str, Break] = {
    "ACC-03": _never_engaged,
    "ACC-04": _sign_out_keeps_the_binding,
    "ACC-05": _find_device_ignored,
    "ACC-10": _box_of_any_request,
    "ACC-11": _any_password,
    "ACC-12": _lets(AccountAction.SIGN_OUT),
    "ACC-13": _lets(AccountAction.UNLOCK),
    "ACC-14": _every_password,
    "ACC-15": _version_1_account,
    "ACC-16": _no_limit,
}


def test_every_negative_account_case_has_a_broken_server() -> None:
    negative = {case.id for case in ACCOUNT_CASES if case.kind is Kind.NEGATIVE}
    assert negative <= set(BROKEN), negative - set(BROKEN)
    assert len(ACCOUNT_CASES) >= 12


#: cases that also fail against a broken rule, and why: ACC-16 counts wrong passwords, and a
#: server that takes every password has none to count; ACC-12's twin signs out, and a device
#: still bound after it may sign out again
ALSO_FAILING = {"ACC-14": {"ACC-16"}, "ACC-04": {"ACC-12"}}


@pytest.mark.parametrize("case_id", sorted(BROKEN))
def test_a_server_breaking_one_account_rule_fails_exactly_its_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case_id: str
) -> None:
    BROKEN[case_id](monkeypatch)
    with our_server(tmp_path) as (_, target):
        run = run_cases(target.kit(), ACCOUNT_CASES)
    failed = {r.case.id: r.reason for r in run.results if r.verdict is Verdict.FAIL}
    passed = {r.case.id for r in run.results if r.verdict is Verdict.PASS}
    expected = {case_id} | ALSO_FAILING.get(case_id, set())
    assert set(failed) == expected, failed
    assert len(passed) == len(ACCOUNT_CASES) - len(expected)
