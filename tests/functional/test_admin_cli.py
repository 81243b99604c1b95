"""``vendor-server admin ...`` as an operator runs it, against a live server.

A few tests run the installed ``vendor-server`` in a real process (exit status, stderr, env,
``--follow``); the rest call the same ``main()`` in this process, which is ten times faster.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.cli import main
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.policies import delay, policy_text
from tests.support.signed_client import sim
from tests.support.vendor import CUBACEL, DAY, TELEKOM, Phones, now, vendor_server

#: The installed console script if there is one (the real thing), else the same entry point.
SCRIPT = Path(sys.executable).with_name("vendor-server")
COMMAND = (
    [str(SCRIPT)]
    if SCRIPT.exists()
    else [sys.executable, "-c", "from server_stub.cli import main; raise SystemExit(main())"]
)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedVendorServer, Phones]]:
    tmp_path = tmp_path_factory.mktemp("cli")
    factory = Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path) as server:
        yield server, Phones(factory, server)


@pytest.fixture
def server(world: tuple[EmbeddedVendorServer, Phones]) -> EmbeddedVendorServer:
    return world[0]


@pytest.fixture
def phones(world: tuple[EmbeddedVendorServer, Phones]) -> Phones:
    return world[1]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Admin:
    """``vendor-server admin --url URL --token-file TOKEN ...`` in this process."""

    def __init__(self, server: EmbeddedVendorServer, capsys: pytest.CaptureFixture[str]) -> None:
        self.server, self.capsys = server, capsys

    def __call__(self, *args: str) -> Result:
        options = ["--url", self.server.url, "--token-file", str(self.server.admin_token.path)]
        self.capsys.readouterr()
        try:
            code = main(["admin", *options, *args])
        except SystemExit as exc:  # argparse refusing the arguments
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return Result(code, out, err)


@pytest.fixture
def admin(server: EmbeddedVendorServer, capsys: pytest.CaptureFixture[str]) -> Admin:
    return Admin(server, capsys)


def real_admin(
    server: EmbeddedVendorServer, *args: str, token: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed command in its own process."""
    options = ["--url", server.url]
    if token:
        options += ["--token-file", str(server.admin_token.path)]
    return subprocess.run(
        [*COMMAND, "admin", *options, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def ok(result: Result | subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_list_is_an_aligned_table_and_json_on_request(
    server: EmbeddedVendorServer, phones: Phones, admin: Admin
) -> None:
    phone = phones()
    phone.activate(sim(CUBACEL))
    lines = ok(real_admin(server, "list")).splitlines()
    header, row = lines[0], next(line for line in lines if line.startswith(phone.serial))
    for column in ("IMEI", "MODEL", "STATE", "REASON", "TERRITORY", "LAST CONTACT", "LOCK DUE"):
        assert header.index(column) == len(header[: header.index(column)])  # present
    # Columns line up: each value starts where its heading does.
    assert row[header.index("STATE") :].startswith("flagged")
    assert row[header.index("TERRITORY") :].startswith("Cuba")
    assert row[header.index("LOCK DUE") :].startswith("2021-09-04 12:00:00Z")

    devices = json.loads(ok(admin("--json", "list")))
    mine = next(d for d in devices if d["serial"] == phone.serial)
    assert (mine["state"], mine["lock_due_at"]) == ("flagged", now(server) + 3 * DAY)


def test_lock_show_release_reach_the_phone(phones: Phones, admin: Admin) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    out = ok(admin("lock", phone.serial, "--reason", "investigation", "--message", "Wait."))
    assert out == f"{phone.serial}: held (investigation); locked at its next contact\n"
    assert (phone.checkin().reason, phone.checkin().message) == ("INVESTIGATION_HOLD", "Wait.")

    shown = ok(admin("show", phone.identity.claims.imeis[0]))
    assert f"serial:          {phone.serial}" in shown
    assert "state:           held" in shown
    assert "hold:            investigation since 2021-" in shown
    assert "INVESTIGATION_HOLD" in shown  # in the verdicts table

    out = ok(admin("release", phone.serial, "--reason", "cleared"))
    assert out == f"{phone.serial}: released (cleared); unlocked at its next contact\n"
    assert phone.checkin().reason == "RELEASED"


def test_release_all(phones: Phones, admin: Admin) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    ok(admin("lock", phone.serial, "--reason", "investigation"))
    result = json.loads(ok(admin("--json", "release-all", "--reason", "review")))
    assert phone.serial in result["released"]
    assert ok(admin("release-all", "--reason", "again")) == "released 0 devices\n"


def test_policy_show_and_set(server: EmbeddedVendorServer, admin: Admin, tmp_path: Path) -> None:
    shown = ok(admin("policy", "show"))
    assert shown.startswith("# The vendor's activation policy")
    assert 'version = "2021-09-sanctions-2"' in shown

    bad = tmp_path / "bad.toml"
    bad.write_text(policy_text(("[enforcement]", "[enforcment]"), version="typo"))
    result = real_admin(server, "policy", "set", str(bad))
    assert result.returncode == 1
    line = bad.read_text().splitlines().index("[enforcment]") + 1  # the problem's own line
    assert result.stderr.startswith(
        f"vendor-server admin: 400 policy_invalid: policy:{line}: enforcment:"
    )
    assert result.stderr.count("\n") == 1  # one line, no traceback

    # Every problem at once, one line each, each with its line in the file.
    two = tmp_path / "two.toml"
    two.write_text(policy_text(("[enforcement]", "[enforcment]"), ("[match]", "[mach]")))
    mach = two.read_text().splitlines().index("[mach]") + 1
    result = real_admin(server, "policy", "set", str(two))
    assert result.returncode == 1
    first, second = result.stderr.splitlines()
    assert first.startswith(f"vendor-server admin: 400 policy_invalid: policy:{line}: enforcment:")
    assert second.startswith(
        f"vendor-server admin: policy:{mach}: mach: unknown field; did you mean 'match'?"
    )
    assert 'version = "2021-09-sanctions-2"' in ok(admin("policy", "show"))

    good = tmp_path / "good.toml"
    good.write_text(policy_text(delay(2), version="2021-09-two-days"))
    out = ok(admin("policy", "set", str(good)))
    assert out == "policy 2021-09-two-days in force (was 2021-09-sanctions-2)\n"
    # Put the default back for the other tests sharing this server.
    default = tmp_path / "default.toml"
    default.write_text(shown)
    ok(admin("policy", "set", str(default)))


def test_audit_tail_human_and_json(phones: Phones, admin: Admin) -> None:
    phones().activate(sim(TELEKOM))
    lines = ok(admin("audit", "tail", "-n", "2")).splitlines()
    assert len(lines) == 2
    assert lines[-1].split()[3:5] == ["activation", phones.server.store.audit(limit=1)[0].serial]
    entries = [
        json.loads(line) for line in ok(admin("--json", "audit", "tail", "-n", "3")).splitlines()
    ]
    assert len(entries) == 3 and entries[-1]["kind"] == "activation"
    assert entries[0]["id"] < entries[1]["id"] < entries[2]["id"]


def _line_within(stream: IO[str], seconds: float) -> str:
    """The next line ``stream`` prints, failing (not hanging) if none comes in ``seconds``."""
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no line in {seconds} s"
    return stream.readline()


def test_audit_tail_follow_prints_new_decisions(
    server: EmbeddedVendorServer, phones: Phones
) -> None:
    # An entry of this test's own to be the newest when the follower starts: alone, or first
    # in a run, the audit would be empty and the first line would never come.
    phones().activate(sim(TELEKOM))
    newest = server.store.audit(limit=1)[0]
    phone = phones()
    args = ["admin", "--url", server.url, "--token-file", str(server.admin_token.path), "--json"]
    with subprocess.Popen(
        [*COMMAND, *args, "audit", "tail", "-n", "1", "--follow", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as follower:
        try:
            assert follower.stdout is not None
            assert json.loads(_line_within(follower.stdout, 30))["id"] == newest.id
            time.sleep(0.1)
            phone.activate(sim(TELEKOM))
            entry = json.loads(_line_within(follower.stdout, 30))
            assert (entry["kind"], entry["serial"]) == ("activation", phone.serial)
        finally:
            follower.terminate()
            follower.communicate(timeout=10)


def test_clock_show_and_advance(server: EmbeddedVendorServer, admin: Admin) -> None:
    before = now(server)
    assert ok(admin("clock", "show")).endswith("(simulated, speed 0)\n")
    out = ok(admin("clock", "advance", "1d12h"))
    assert now(server) == before + DAY + DAY // 2
    assert out.startswith("clock advanced to 2021-")
    bad = admin("clock", "advance", "3 days")
    assert bad.returncode == 2 and "not a duration like 3d" in bad.stderr


@pytest.mark.parametrize(
    ("alone", "named"),
    [
        (["clock"], ["clock", "show"]),
        (["policy"], ["policy", "show"]),
        (["audit"], ["audit", "tail"]),
    ],
)
def test_a_group_named_alone_does_its_first_subcommand(
    phones: Phones, admin: Admin, alone: list[str], named: list[str]
) -> None:
    phones().activate(sim(TELEKOM))  # something in the audit log, whatever ran before
    shown = ok(admin(*alone))
    assert shown and shown == ok(admin(*named))


@pytest.mark.parametrize(
    "args",
    [["audit", "-n", "2"], ["audit", "tail", "-n", "2"], ["audit", "-n", "2", "tail"]],
    ids=" ".join,
)
def test_the_tail_options_work_with_or_without_tail(
    phones: Phones, admin: Admin, args: list[str]
) -> None:
    for _ in range(2):
        phones().activate(sim(TELEKOM))
    assert ok(admin(*args)) == ok(admin("audit", "tail", "-n", "2"))
    assert len(ok(admin(*args)).splitlines()) == 2


def test_a_group_still_refuses_an_unknown_subcommand(admin: Admin) -> None:
    refused = admin("clock", "rewind")
    assert refused.returncode == 2 and "invalid choice: 'rewind'" in refused.stderr


def test_token_from_the_environment(
    server: EmbeddedVendorServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VENDOR_ADMIN_TOKEN", server.admin_token.value)
    assert main(["admin", "--url", server.url, "clock", "show"]) == 0
    assert "simulated" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"VENDOR_ADMIN_TOKEN": "wrong"},
            "vendor-server admin: 401 admin_unauthorized: wrong admin token\n",
        ),
        ({"VENDOR_ADMIN_TOKEN": ""}, "vendor-server admin: no admin token: pass --token-file"),
    ],
    ids=["wrong", "none"],
)
def test_token_problems_are_one_line_and_exit_1(
    server: EmbeddedVendorServer, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = subprocess.run(
        [*COMMAND, "admin", "--url", server.url, "list"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
        cwd=tmp_path,  # no .phone-sim-data here to fall back on
    )
    assert result.returncode == 1
    assert result.stderr.startswith(expected)
    assert result.stdout == ""


def test_an_unreachable_server_is_one_line_and_exit_1(server: EmbeddedVendorServer) -> None:
    result = subprocess.run(
        [
            *COMMAND,
            "admin",
            "--url",
            "http://127.0.0.1:9",
            "--token-file",
            str(server.admin_token.path),
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "vendor-server admin: cannot reach the vendor server at http://127.0.0.1:9"
    )
    assert "Traceback" not in result.stderr


def test_unknown_device_is_one_line_and_exit_1(admin: Admin) -> None:
    result = admin("show", "RN10P9999999")
    assert result.returncode == 1
    assert result.stderr == (
        "vendor-server admin: 404 device_not_found: no device or pending hold has the serial or "
        "IMEI 'RN10P9999999'\n"
    )
