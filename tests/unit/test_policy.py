"""The activation policy: pure decisions on SIM networks, and refusal of bad policy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.messages import ActivationRequest, SimReport, VerdictStatus
from server_stub.cli import main
from server_stub.errors import PolicyError
from server_stub.policy import (
    Decision,
    DualSimRule,
    Policy,
    Reason,
    SimData,
    decide,
    load_default_policy,
    load_policy,
    parse_policy,
)
from tests.support.signed_client import DeviceIdentity, sim

LOCK_MESSAGE = (
    "Xiaomi policy does not permit sale or provision of the product to the territory in which "
    "you have attempted to activate it. Please contact the retailers directly for additional "
    "information."
)

MINIMAL = """
version = "test-1"
lock_message = "locked"
[[territories]]
name = "Cuba"
networks = ["368"]
"""


@pytest.fixture(scope="module")
def device() -> DeviceIdentity:
    # Decisions never look at the certificate; one device for the module keeps this fast.
    return DeviceIdentity.issue(Factory.create())


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_default_policy()


def request(device: DeviceIdentity, *sims: SimReport) -> ActivationRequest:
    return device.request(sims, nonce="n" * 16)


def with_match(sim_data: str, dual_sim: str) -> Policy:
    return parse_policy(f'{MINIMAL}\n[match]\nsim_data = {sim_data}\ndual_sim = "{dual_sim}"\n')


# --- the packaged policy ------------------------------------------------------------------


def test_default_policy_carries_the_reported_lock_message_verbatim(policy: Policy) -> None:
    assert policy.lock_message == LOCK_MESSAGE
    assert policy.match.sim_data == (SimData.HOME,)
    assert policy.match.dual_sim is DualSimRule.ANY
    assert [t.name for t in policy.territories] == [
        "Cuba",
        "Iran",
        "Syria",
        "North Korea",
        "Sudan",
        "Crimea",
    ]


@pytest.mark.parametrize(
    ("home", "territory"),
    [
        ("368-01", "Cuba"),  # Cubacel
        ("432-35", "Iran"),  # Irancell
        ("417-01", "Syria"),  # Syriatel
        ("467-05", "North Korea"),  # Koryolink
        ("634-07", "Sudan"),  # Sudani
        ("250-60", "Crimea"),  # Volna
        ("250-32", "Crimea"),  # Win Mobile
        ("250-34", "Crimea"),  # Krymtelekom
    ],
)
def test_embargoed_operators_lock(
    policy: Policy, device: DeviceIdentity, home: str, territory: str
) -> None:
    decision = decide(policy, request(device, sim(home)))
    assert decision == Decision(
        status=VerdictStatus.LOCKED,
        reason=Reason.EMBARGOED_TERRITORY,
        message=LOCK_MESSAGE,
        rule="embargo:home",
        policy_version=policy.version,
        territory=territory,
        network=home,
        slot=1,
    )


@pytest.mark.parametrize(
    "home",
    [
        "262-01",  # Telekom, Germany
        "250-01",  # MTS, Russia: same MCC as Crimea's operators
        "460-00",  # China Mobile
        "405-872",  # Jio Delhi, a three-digit MNC
        "310-260",  # T-Mobile USA
    ],
)
def test_other_operators_activate(policy: Policy, device: DeviceIdentity, home: str) -> None:
    decision = decide(policy, request(device, sim(home)))
    assert decision.status is VerdictStatus.ACTIVATED
    assert decision.reason is Reason.ACTIVATION_OK
    assert decision.rule == "no-embargoed-network"
    assert decision.territory is None


def test_activation_without_a_sim_is_allowed(policy: Policy, device: DeviceIdentity) -> None:
    decision = decide(policy, request(device))
    assert (decision.status, decision.rule) == (VerdictStatus.ACTIVATED, "no-sim")


def test_home_operator_counts_not_the_network_roamed_on(
    policy: Policy, device: DeviceIdentity
) -> None:
    # A German SIM roaming on Cubacel activates; a Cuban SIM roaming in Germany locks.
    tourist = decide(policy, request(device, sim("262-01", serving="368-01")))
    cuban_abroad = decide(policy, request(device, sim("368-01", serving="262-01")))
    assert tourist.status is VerdictStatus.ACTIVATED
    assert cuban_abroad.status is VerdictStatus.LOCKED


def test_serving_network_counts_when_the_policy_says_so(device: DeviceIdentity) -> None:
    policy = with_match('["serving"]', "any")
    tourist = decide(policy, request(device, sim("262-01", serving="368-01")))
    assert (tourist.status, tourist.rule, tourist.network) == (
        VerdictStatus.LOCKED,
        "embargo:serving",
        "368-01",
    )
    # Not camped on any network: nothing to judge.
    assert decide(policy, request(device, sim("368-01"))).status is VerdictStatus.ACTIVATED


def test_dual_sim_any_slot_embargoed_locks(policy: Policy, device: DeviceIdentity) -> None:
    decision = decide(policy, request(device, sim("262-01", slot=1), sim("467-05", slot=2)))
    assert (decision.status, decision.slot, decision.territory) == (
        VerdictStatus.LOCKED,
        2,
        "North Korea",
    )


def test_dual_sim_all_rule_needs_every_slot_embargoed(device: DeviceIdentity) -> None:
    policy = with_match('["home"]', "all")
    mixed = request(device, sim("262-01", slot=1), sim("368-01", slot=2))
    both = request(device, sim("368-01", slot=1), sim("368-01", slot=2))
    assert decide(policy, mixed).status is VerdictStatus.ACTIVATED
    assert decide(policy, both).status is VerdictStatus.LOCKED


def test_dual_sim_first_rule_judges_the_lowest_slot_only(device: DeviceIdentity) -> None:
    policy = with_match('["home"]', "first")
    assert decide(policy, request(device, sim("262-01", slot=1), sim("368-01", slot=2))).status is (
        VerdictStatus.ACTIVATED
    )
    # Slot order, not report order, decides which SIM is first.
    assert decide(policy, request(device, sim("262-01", slot=2), sim("368-01", slot=1))).status is (
        VerdictStatus.LOCKED
    )


def test_decision_is_pure(policy: Policy, device: DeviceIdentity) -> None:
    req = request(device, sim("250-60"))
    assert decide(policy, req) == decide(policy, req)


# --- bad policy files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = ", "not valid TOML"),
        (MINIMAL.replace('version = "test-1"', ""), "version: is required"),
        (MINIMAL.replace('"test-1"', "1"), "version: must be a string, not int"),
        (
            MINIMAL.replace('"test-1"', '"' + "v" * 65 + '"'),
            "version: is 65 characters; the limit is 64",
        ),
        (MINIMAL.replace('"locked"', '""'), "lock_message: must not be empty"),
        (MINIMAL.replace('"locked"', '"' + "x" * 1001 + '"'), "lock_message: is 1001 characters"),
        (MINIMAL + "colour = 'red'\n", "colour: unknown field"),
        (
            MINIMAL.replace('["368"]', '["36"]'),
            "territories[0].networks[0]: '36' is neither an MCC",
        ),
        (MINIMAL.replace('["368"]', '["999"]'), "territories[0].networks[0]: '999' is neither"),
        (MINIMAL.replace('["368"]', '["250-6"]'), "territories[0].networks[0]: '250-6' is neither"),
        (
            MINIMAL.replace('["368"]', "[368]"),
            "territories[0].networks[0]: must be a string, not int",
        ),
        (MINIMAL.replace('["368"]', "[]"), "territories[0].networks: must be a non-empty list"),
        (MINIMAL.replace('name = "Cuba"', 'nom = "Cuba"'), "territories[0].nom: unknown field"),
        (
            MINIMAL + '[[territories]]\nname = "Crimea"\nnetworks = ["250-60", "368-01"]\n',
            "territories[1].networks[1]: '368-01' overlaps '368' of territory 'Cuba'",
        ),
        (
            MINIMAL + '[[territories]]\nname = "Cuba"\nnetworks = ["369"]\n',
            "territory 'Cuba' is declared twice",
        ),
        ('version = "v"\nlock_message = "m"\n', "territories: must be a non-empty array"),
        (MINIMAL + "[match]\nsim_data = []\n", "match.sim_data: must be a non-empty list"),
        (MINIMAL + '[match]\nsim_data = ["imsi"]\n', "match.sim_data: must list each of"),
        (MINIMAL + '[match]\nsim_data = ["home", "home"]\n', "match.sim_data: must list each of"),
        (
            MINIMAL + '[match]\ndual_sim = "both"\n',
            "match.dual_sim: must be one of 'any', 'all', 'first'",
        ),
        (MINIMAL + "[match]\nroaming = true\n", "match.roaming: unknown field"),
    ],
)
def test_bad_policies_are_refused_naming_the_problem(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="bad.toml")
    assert str(info.value).startswith("bad.toml: ")
    assert expected in str(info.value)


def test_unreadable_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.toml")


def test_policy_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(MINIMAL)
    bad.write_text(MINIMAL.replace('["368"]', '["250-6x"]'))

    assert main(["policy", "check", str(good)]) == 0
    assert "OK: policy test-1, 1 territories, 1 networks" in capsys.readouterr().out

    assert main(["policy", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: territories[0].networks[0]: '250-6x' is neither an MCC" in err
