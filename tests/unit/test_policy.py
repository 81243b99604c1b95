"""The activation policy: matching SIM networks, and refusal of bad policy files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from phone_sim.protocol.messages import SimReport
from server_stub.cli import main
from server_stub.errors import PolicyError
from server_stub.policy import (
    DualSimRule,
    Hit,
    Network,
    Policy,
    SimData,
    default_policy_text,
    embargo_hits,
    load_default_policy,
    load_policy,
    parse_policy,
)
from server_stub.policy.model import DAY, HOUR
from server_stub.policy.regions import MARKET_MCCS
from server_stub.policy.schema import RegionLockTable
from tests.support.nesting import KINDS, nested
from tests.support.signed_client import sim

CLI = "from server_stub.cli import main; raise SystemExit(main())"

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
def policy() -> Policy:
    return load_default_policy()


def hits(policy: Policy, *sims: SimReport) -> list[Hit]:
    return embargo_hits(policy, sims, policy.match.sim_data)


def with_match(sim_data: str, dual_sim: str) -> Policy:
    return parse_policy(f'{MINIMAL}\n[match]\nsim_data = {sim_data}\ndual_sim = "{dual_sim}"\n')


# --- the packaged policy ------------------------------------------------------------------


def test_default_policy_carries_the_reported_lock_message_verbatim(policy: Policy) -> None:
    assert policy.lock_message == LOCK_MESSAGE
    assert policy.match.sim_data == (SimData.HOME,)
    assert policy.match.dual_sim is DualSimRule.ANY
    # The story's timing: locked a few days after activation, checked daily.
    assert (policy.enforcement.delay, policy.enforcement.checkin_interval) == (3 * DAY, DAY)
    assert policy.enforcement.sim_swap_lifts_lock is False
    assert policy.enforcement.activation_territory_sticks is True
    assert (policy.offline, policy.region_lock) == (None, None)
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
def test_embargoed_operators_are_hit(policy: Policy, home: str, territory: str) -> None:
    (hit,) = hits(policy, sim(home))
    assert (hit.slot, hit.data, str(hit.network), hit.territory.name) == (
        1,
        SimData.HOME,
        home,
        territory,
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
def test_other_operators_are_not_hit(policy: Policy, home: str) -> None:
    assert hits(policy, sim(home)) == []


def test_no_sim_no_hit(policy: Policy) -> None:
    assert hits(policy) == []


def test_home_operator_counts_not_the_network_roamed_on(policy: Policy) -> None:
    # A German SIM roaming on Cubacel is not hit; a Cuban SIM roaming in Germany is.
    assert hits(policy, sim("262-01", serving="368-01")) == []
    assert len(hits(policy, sim("368-01", serving="262-01"))) == 1


def test_serving_network_counts_when_the_policy_says_so() -> None:
    policy = with_match('["serving"]', "any")
    (hit,) = hits(policy, sim("262-01", serving="368-01"))
    assert (hit.data, hit.network) == (SimData.SERVING, Network("368", "01"))
    # Not camped on any network: nothing to judge.
    assert hits(policy, sim("368-01")) == []


def test_dual_sim_any_slot_embargoed_is_hit(policy: Policy) -> None:
    (hit,) = hits(policy, sim("262-01", slot=1), sim("467-05", slot=2))
    assert (hit.slot, hit.territory.name) == (2, "North Korea")


def test_dual_sim_all_rule_needs_every_slot_embargoed() -> None:
    policy = with_match('["home"]', "all")
    assert hits(policy, sim("262-01", slot=1), sim("368-01", slot=2)) == []
    assert len(hits(policy, sim("368-01", slot=1), sim("368-01", slot=2))) == 2


def test_dual_sim_first_rule_judges_the_lowest_slot_only() -> None:
    policy = with_match('["home"]', "first")
    assert hits(policy, sim("262-01", slot=1), sim("368-01", slot=2)) == []
    # Slot order, not report order, decides which SIM is first.
    (hit,) = hits(policy, sim("262-01", slot=2), sim("368-01", slot=1))
    assert hit.slot == 1


def test_new_options_parse() -> None:
    policy = parse_policy(
        MINIMAL
        + "[enforcement]\ndelay_days = 0.5\ncheckin_interval_hours = 6\nsim_swap_lifts_lock = true\n"
        + "[offline]\nlock_after_days = 30\nwarn_days_before = 3\n"
        + '[region_lock]\nCN = "first_sim"\nEU = "first_sim"\nmessage = "wrong region"\n'
    )
    assert (policy.enforcement.delay, policy.enforcement.checkin_interval) == (12 * HOUR, 6 * HOUR)
    assert policy.enforcement.sim_swap_lifts_lock is True
    assert policy.offline is not None
    assert (policy.offline.lock_after, policy.offline.warn_before) == (30 * DAY, 3 * DAY)
    assert policy.region_lock is not None
    assert policy.region_lock.rule_for("CN") == "first_sim"
    assert policy.region_lock.rule_for("MI") is None
    assert policy.region_lock.message == "wrong region"


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
        ("enforcement = 3\n" + MINIMAL, "enforcement: must be a table"),
        (MINIMAL + "[enforcement]\ndelay = 3\n", "enforcement.delay: unknown field"),
        (
            MINIMAL + "[enforcement]\ndelay_days = -1\n",
            "enforcement.delay_days: must be between 0 and 3650, got -1",
        ),
        (
            MINIMAL + '[enforcement]\ndelay_days = "3d"\n',
            "enforcement.delay_days: must be a number, not str",
        ),
        (
            MINIMAL + "[enforcement]\ndelay_days = true\n",
            "enforcement.delay_days: must be a number, not bool",
        ),
        (
            MINIMAL + "[enforcement]\ncheckin_interval_hours = 0\n",
            "enforcement.checkin_interval_hours: must be between",
        ),
        (
            MINIMAL + '[enforcement]\nsim_swap_lifts_lock = "yes"\n',
            "enforcement.sim_swap_lifts_lock: must be true or false, not str",
        ),
        (MINIMAL + "[offline]\nwarn_days_before = 3\n", "offline.lock_after_days: is required"),
        (
            MINIMAL + "[offline]\nlock_after_days = 3\nwarn_days_before = 3\n",
            "offline.warn_days_before: must be less than lock_after_days",
        ),
        (
            MINIMAL + "[offline]\nlock_after_days = 0.5\n",
            "offline.lock_after_days: must be longer than enforcement.checkin_interval_hours",
        ),
        (MINIMAL + '[region_lock]\nMI = "first_sim"\n', "region_lock.MI: unknown market"),
        (
            MINIMAL + '[region_lock]\nCN = "any_sim"\n',
            "region_lock.CN: must be one of 'first_sim', got 'any_sim'",
        ),
        ("release_message = ''\n" + MINIMAL, "release_message: must not be empty"),
    ],
)
def test_bad_policies_are_refused_naming_the_problem(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="bad.toml")
    # file:line where the problem is written; a missing key has no line of its own.
    assert re.match(r"bad\.toml(:\d+)?: ", str(info.value))
    assert expected in str(info.value)


def test_every_problem_of_a_policy_is_reported_at_once_each_with_its_line() -> None:
    text = (
        MINIMAL.replace('"test-1"', "1")  # line 2
        + '[match]\ndual_sim = "frist"\n'  # line 8
        + "[enforcment]\ndelay_days = 1\n"  # line 9
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="three.toml")
    assert str(info.value).splitlines() == [
        "three.toml:2: version: must be a string, not int",
        "three.toml:8: match.dual_sim: must be one of 'any', 'all', 'first', got 'frist'; "
        "did you mean 'first'?",
        "three.toml:9: enforcment: unknown field; did you mean 'enforcement'? (expected one of: "
        "activation_message, enforcement, hold_message, lock_message, lock_screen, lock_warning, "
        "match, offline, "
        "region_lock, release_message, territories, version)",
    ]
    assert [(p.line, p.path) for p in info.value.problems] == [
        (2, ("version",)),
        (8, ("match", "dual_sim")),
        (9, ("enforcment",)),
    ]


def test_rules_across_territories_report_every_overlap() -> None:
    text = (
        MINIMAL
        + '[[territories]]\nname = "Cuba"\nnetworks = ["368-01"]\n'
        + '[[territories]]\nname = "Russia"\nnetworks = ["250", "250-60"]\n'
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.toml")
    assert str(info.value).splitlines() == [
        "p.toml:8: territories[1].name: territory 'Cuba' is declared twice",
        "p.toml:9: territories[1].networks[0]: '368-01' overlaps '368' of territory 'Cuba'",
        "p.toml:12: territories[2].networks[1]: '250-60' overlaps '250' of territory 'Russia'",
    ]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_numbers_that_are_not_finite_are_refused(value: str) -> None:
    # Before: round(nan) raised ValueError out of the loader (a 500 from PUT /admin/policy).
    with pytest.raises(PolicyError, match=r"enforcement\.delay_days: must be a finite number"):
        parse_policy(f"{MINIMAL}[enforcement]\ndelay_days = {value}\n")


def test_region_lock_markets_are_the_markets_with_a_home_region() -> None:
    fields = set(RegionLockTable.model_fields) - {"message"}
    assert fields == set(MARKET_MCCS)
    with pytest.raises(PolicyError, match=r"region_lock.cn: unknown market; did you mean 'CN'\?"):
        parse_policy(MINIMAL + '[region_lock]\ncn = "first_sim"\n')


@pytest.mark.parametrize("kind", KINDS)
def test_a_deeply_nested_policy_is_one_clean_problem(kind: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(
            MINIMAL.replace("[[territories]]", nested("extra", kind) + "[[territories]]"),
            source="deep.toml",
        )
    assert str(info.value) == (
        "deep.toml:4: extra: nested more than 32 levels deep (tables, arrays or dotted keys)"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_policy_check_on_a_deeply_nested_file_prints_one_line(tmp_path: Path, kind: str) -> None:
    # A real process: before, `policy check` died with a 3,000-line RecursionError traceback.
    deep = tmp_path / "deep.toml"
    deep.write_text(MINIMAL.replace("[[territories]]", nested("extra", kind) + "[[territories]]"))
    done = subprocess.run(
        [sys.executable, "-c", CLI, "policy", "check", str(deep)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"vendor-server: {deep}:4: extra: nested more than 32 levels deep "
        "(tables, arrays or dotted keys)\n"
    )


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
    assert f"{bad}:6: territories[0].networks[0]: '250-6x' is neither an MCC" in err


def test_the_operator_guide_example_policy_is_valid() -> None:
    # docs/OPERATOR.md shows "a policy with every option": it must stay a real policy.
    guide = (Path(__file__).parents[2] / "docs" / "OPERATOR.md").read_text()
    example = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy(example, source="OPERATOR.md")
    assert policy.offline is not None and policy.region_lock is not None
    assert policy.lock_screen is not None and policy.lock_warning is not None
    assert policy.enforcement.sim_swap_lifts_lock is True


def test_a_text_parsed_again_is_the_same_policy_and_a_bad_one_names_each_source() -> None:
    # docs/decisions/policy-parsed-once-per-text.md: kept per text, problems per source.
    text = default_policy_text()
    assert parse_policy(text, source="a.toml") is parse_policy(text, source="b.toml")
    bad = text.replace('version = "', 'version = 7 #"', 1)
    for source in ("first.toml", "second.toml"):
        with pytest.raises(PolicyError) as raised:
            parse_policy(bad, source=source)
        assert source in str(raised.value)
