"""Each negative case against a server broken at exactly its rule: that case fails, no other.

The broken servers are the minimal server (tests/support/minimal_server.py) with one check
not enforced (tests/support/broken_server.py); ``BREAKS`` names each negative case's rule.
One server runs the whole module; its broken rule changes between runs.

Running every case against every broken server would take minutes. Instead the module first
runs every protocol case against the server in recording mode, which answers as the minimal
server does and notes every rule each case's requests break (``violations``). A broken rule
changes the server's answer only to a request that breaks it (the check is the same, or the
hook the same, for every other request), so a case whose requests break none of it cannot
fail against that server: each broken server is then run against the cases that break its
rule, and its own case must be the one that fails. Two broken servers are also run against
every case, to check that argument where it can be checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phone_sim.conformance.cases import CASES
from phone_sim.conformance.context import Kit
from phone_sim.conformance.registry import Case, Group, Kind
from phone_sim.conformance.runner import Verdict, run_case
from tests.support.broken_server import BrokenServer
from tests.support.conformance import minimal_server

#: each negative case, and the one rule of the minimal server it breaks
BREAKS = {
    "RPL-01": "nonce:idempotent",
    "RPL-02": "nonce:per-created",
    "RPL-03": "nonce:per-path",
    "RPL-04": "nonce:per-device",
    "TIM-10": "time.nonce:length",
    "TIM-11": "time:unknown",
    "TIM-12": "time:canonical",
    "TIM-13": "time.protocol:value",
    "HTTP-02": "http:405",
    "HTTP-03": "http:route",
    "HTTP-04": "http:length",
    "BOD-10": "body:size",
    "BOD-12": "body:depth",
    "BOD-13": "body:duplicate",
    "BOD-14": "canonical:order",
    "BOD-15": "canonical:whitespace",
    "BOD-16": "canonical:escape",
    "BOD-17": "canonical:newline",
    "BOD-18": "body:bom",
    "BOD-19": "body:utf16",
    "BOD-20": "body:utf8",
    "BOD-21": "body:json",
    "BOD-22": "body:object",
    "BOD-25": "body:surrogate",
    "BOD-26": "body:unknown",
    "BOD-27": "device:unknown",
    "BOD-28": "sim:unknown",
    "BOD-29": "body.protocol:type",
    "BOD-30": "device.bootloader_unlocked:type",
    "BOD-31": "sim.slot:type",
    "BOD-32": "body.sims:missing",
    "BOD-33": "device.firmware:missing",
    "BOD-34": "body.protocol:value",
    "BOD-36": "sims:slots",
    "BOD-37": "device.imeis:value",
    "BOD-38": "device.serial:value",
    "BOD-39": "device.market:value",
    "BOD-40": "device.model:value",
    "BOD-41": "sim.iccid:value",
    "BOD-42": "sim.home_mcc:value",
    "BOD-43": "sim.home_mnc:value",
    "BOD-44": "sim.serving_mcc:value",
    "BOD-45": "sim.serving_mnc:value",
    "BOD-46": "sim.serving:pair",
    "BOD-47": "body.nonce:length",
    "BOD-48": "body.nonce:charset",
    "BOD-49": "body.certificates:count",
    "BOD-50": "body.certificates:length",
    "SIG-10": "sig:none",
    "SIG-11": "sig:half",
    "SIG-12": "cover:@method",
    "SIG-13": "cover:@target-uri",
    "SIG-14": "cover:content-digest",
    "SIG-15": "cover:unique",
    "SIG-16": "cover:absent",
    "SIG-17": "target:path",
    "SIG-18": "target:host",
    "SIG-19": "target:scheme",
    "SIG-20": "target:query",
    "SIG-21": "param:alg",
    "SIG-22": "param:alg-value",
    "SIG-23": "param:alg-type",
    "SIG-24": "param:keyid",
    "SIG-25": "param:keyid-serial",
    "SIG-26": "param:nonce",
    "SIG-27": "nonce:match",
    "SIG-28": "param:created",
    "SIG-29": "param:created-type",
    "SIG-30": "param:unknown",
    "SIG-31": "sig:one",
    "SIG-32": "sig:label",
    "SIG-34": "sig:raw",
    "SIG-36": "sig:syntax",
    "DIG-10": "digest:match-sha-256",
    "DIG-12": "digest:sha-256",
    "DIG-13": "digest:match-sha-512",
    "DIG-14": "digest:known",
    "DIG-15": "digest:length",
    "STL-01": "fresh:past",
    "STL-02": "fresh:future",
    "STL-03": "fresh:expires",
    "ORD-01": "order:time-first",
    "CRT-01": "chain:root",
    "CRT-02": "chain:path",
    "CRT-04": "chain:base64",
    "CRT-05": "chain:der",
    "CRT-06": "device:expired",
    "CRT-07": "device:not-yet-valid",
    "CRT-08": "device:not-ca",
    "CRT-09": "device:basic",
    "CRT-10": "device:usage-sign",
    "CRT-11": "device:usage-ca",
    "CRT-12": "device:usage-critical",
    "CRT-13": "device:client-auth",
    "CRT-14": "device:purpose",
    "CRT-15": "claims:critical",
    "CRT-16": "claims:present",
    "CRT-17": "device:critical",
    "CRT-19": "claims:keys",
    "CRT-20": "claims:duplicate",
    "CRT-21": "claims:json",
    "CRT-22": "device:p256",
    "CLM-01": "claims:serial",
    "CLM-02": "claims:imeis-order",
    "CLM-03": "claims:imeis-count",
    "CLM-04": "claims:imeis-member",
    "CLM-05": "claims:model",
    "CLM-06": "claims:market",
}
PROTOCOL = [case for case in CASES.values() if case.group is Group.PROTOCOL]
NEGATIVE = [case.id for case in PROTOCOL if case.kind is Kind.NEGATIVE]
#: checked against every case: one break of a check, one of a hook
FULL = ("BOD-29", "SIG-17")


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokenServer, Kit]]:
    with minimal_server(tmp_path_factory.mktemp("broken"), BrokenServer) as (server, target):
        assert isinstance(server, BrokenServer)
        yield server, target.kit()


@pytest.fixture(scope="module")
def violations(broken: tuple[BrokenServer, Kit]) -> dict[str, set[str]]:
    """The rules each protocol case's requests break, the minimal server recording."""
    server, kit = broken
    server.recording, found = True, {}
    try:
        for case in PROTOCOL:
            server.violations.clear()
            result = run_case(kit, case)
            assert result.verdict is Verdict.PASS, f"{case.id} recording: {result.reason}"
            found[case.id] = set(server.violations)
    finally:
        server.recording = False
    return found


def _failing(server: BrokenServer, kit: Kit, rule: str, cases: list[Case]) -> list[str]:
    server.broken = frozenset({rule})
    try:
        return [c.id for c in cases if run_case(kit, c).verdict is Verdict.FAIL]
    finally:
        server.broken = frozenset()


def test_every_negative_case_breaks_a_rule_of_its_own() -> None:
    assert sorted(BREAKS) == sorted(NEGATIVE)
    assert len(set(BREAKS.values())) == len(BREAKS)


def test_positive_cases_break_nothing(violations: dict[str, set[str]]) -> None:
    for case in PROTOCOL:
        if case.kind is Kind.POSITIVE and case.id != "ACT-05":
            assert not violations[case.id], case.id
    # ACT-05 sends one request that must be refused: its signature does not verify, a rule
    # no negative case has to itself (every case whose signature fails names how).
    assert violations["ACT-05"] == {"sig:verifies"}


@pytest.mark.parametrize("case_id", NEGATIVE)
def test_a_server_broken_at_a_cases_rule_fails_that_case_and_no_other(
    broken: tuple[BrokenServer, Kit], violations: dict[str, set[str]], case_id: str
) -> None:
    server, kit = broken
    rule = BREAKS[case_id]
    assert rule in violations[case_id], f"{case_id} does not break {rule}: {violations[case_id]}"
    affected = [case for case in PROTOCOL if rule in violations[case.id]]
    assert _failing(server, kit, rule, affected) == [case_id]


@pytest.mark.parametrize("case_id", FULL)
def test_against_every_case_too(broken: tuple[BrokenServer, Kit], case_id: str) -> None:
    server, kit = broken
    assert _failing(server, kit, BREAKS[case_id], PROTOCOL) == [case_id]
