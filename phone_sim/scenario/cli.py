"""``phone-sim scenario run FILE...`` and ``phone-sim scenario list``.

Every file is parsed and checked before any runs: one bad file and nothing runs (exit 2).
Otherwise each scenario runs on a new phone and the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server_stub.datadir.admin_token import TOKEN_ENV

if TYPE_CHECKING:
    from .driver import RemoteServer
    from .model import Scenario
    from .runner import ScenarioResult

# The library, the parser (pydantic models), the runner, the driver and JUnit are imported where
# a command needs them: `phone-sim` builds its parser from this module, every process the fleet
# spawns imports `phone-sim` again, and the TUI's first frame waits for the parser
# (docs/decisions/lazy-subcommand-imports.md, docs/decisions/tui-first-frame-imports.md).

#: where `make serve-vendor` keeps the factory whose root the server trusts
DEFAULT_FACTORY = Path(".phone-sim-data/factory")
UI_RUNNER = "phone_sim.scenario.ui_runner"

#: headless scenarios run at once by one ``scenario run`` (each in a world of its own)
SIDE_BY_SIDE = 4


def add_scenario_commands(sub: Any) -> None:
    """Add ``scenario run`` and ``scenario list`` to the ``phone-sim`` subcommands."""
    scenario = sub.add_parser("scenario", help="run scripted scenarios (docs/SCENARIOS.md)")
    actions = scenario.add_subparsers(dest="scenario_command", required=True, metavar="COMMAND")
    runner = actions.add_parser("run", help="run scenario files or shipped scenarios by name")
    runner.add_argument("files", nargs="+", metavar="FILE", help="a .toml file or a shipped name")
    # Own dests: the top-level parser's --server and --vendor-key must not be overwritten.
    runner.add_argument("--server", dest="scenario_server", metavar="URL", help="a running server")
    runner.add_argument(
        "--vendor-key", dest="scenario_vendor_key", type=Path, metavar="PEM",
        help="the server's public key (default with --server: none; required)",
    )  # fmt: skip
    runner.add_argument(
        "--admin-token-file", dest="scenario_admin_token", type=Path, metavar="FILE",
        help=f"the server's admin token (default: ${TOKEN_ENV}, else admin.token beside the key)",
    )  # fmt: skip
    runner.add_argument(
        "--factory", dest="scenario_factory", type=Path, metavar="DIR",
        help="the factory the server trusts (default: beside the key's directory, factory/)",
    )  # fmt: skip
    runner.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    runner.add_argument("--ui", action="store_true", help="drive the Textual app headless")
    runner.add_argument("--screenshots", type=Path, metavar="DIR", help="with --ui: SVG per step")
    runner.add_argument(
        "-x", "--fail-fast", action="store_true", help="stop after the first failing scenario"
    )
    actions.add_parser("list", help="the shipped scenarios, one line each")


def run_scenario_command(
    args: argparse.Namespace, out: Callable[[str], object] = print, *, own_process: bool = False
) -> int:
    """``scenario list`` or ``scenario run``; ``own_process``: this process is the command's own
    (``phone_sim.cli.entry``), and ``run`` may freeze the collector's heap."""
    if args.scenario_command == "list":
        from .library import library_dir, listing

        rows = listing()
        width = max((len(name) for name, _ in rows), default=0)
        for name, description in rows:
            out(f"{name:<{width}}  {description.splitlines()[0] if description else ''}")
        out(f"({len(rows)} scenarios in {library_dir()})")
        return 0
    return _run(args, out, own_process=own_process)


def _error(message: str) -> int:
    print(f"phone-sim: {message}", file=sys.stderr)
    return 2


def _server(args: argparse.Namespace) -> RemoteServer | None:
    if args.scenario_server is None:
        return None
    key: Path | None = args.scenario_vendor_key
    if key is None:
        raise ValueError("--server needs --vendor-key (the vendor public key the phone pins)")
    token_file: Path | None = args.scenario_admin_token
    token = os.environ.get(TOKEN_ENV)
    if token_file is None and token is None and (key.parent / "admin.token").is_file():
        token_file = key.parent / "admin.token"
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{token_file}: cannot read the admin token: {exc}") from None
    from .driver import RemoteServer

    factory = args.scenario_factory or key.resolve().parent.parent / "factory"
    if not (factory / "intermediate.key").is_file():
        raise ValueError(
            f"{factory}: no factory here to build a phone the server trusts (--factory)"
        )
    return RemoteServer(args.scenario_server, key, factory, token)


def _ui_runner() -> Callable[..., Any] | None:
    """``run_ui`` from the Textual driver, imported only when asked for (it loads Textual)."""
    try:
        module = importlib.import_module(UI_RUNNER)
    except ModuleNotFoundError as exc:
        if exc.name != UI_RUNNER:
            raise
        return None
    run_ui: Callable[..., Any] = module.run_ui
    return run_ui


def real_time_wait(scenario: Scenario) -> float:
    """The real seconds ``scenario`` is known to wait: a slow server holds an answer back for
    its ``seconds``, and the phone waits at most its timeout for it. An estimate for the order
    in which scenarios start (a scenario's other steps take milliseconds)."""
    from phone_sim.faults import FaultMode

    from .step_args import FaultArgs

    return sum(
        min(step.params.seconds or 0.0, scenario.timeout)
        for step in scenario.steps
        if isinstance(step.params, FaultArgs) and step.params.mode is FaultMode.SLOW
    )


def start_order(scenarios: list[Scenario]) -> list[int]:
    """The indexes of ``scenarios`` in the order they start side by side: those that wait
    longest in real time first, the others as given."""
    return sorted(range(len(scenarios)), key=lambda index: -real_time_wait(scenarios[index]))


def _side_by_side(scenarios: list[Scenario], out: Callable[[str], object]) -> list[ScenarioResult]:
    """Run headless scenarios ``SIDE_BY_SIDE`` at a time, each in a world of its own (its own
    embedded server), and print each one's lines in the order given, as soon as those before
    it are printed: the output is the one-at-a-time run's. A scenario that waits in real time
    (a slow server, a phone's timeout) no longer holds up the others
    (``docs/decisions/scenarios-side-by-side.md``)."""
    from concurrent.futures import ThreadPoolExecutor

    from .runner import run

    def run_quietly(scenario: Scenario) -> ScenarioResult:
        return run(scenario, out=lambda _line: None)

    results: list[ScenarioResult] = []
    with ThreadPoolExecutor(SIDE_BY_SIDE, thread_name_prefix="scenario") as pool:
        # Those that wait in real time start first, so that their waits pass while the others
        # run (docs/decisions/waiting-scenarios-first.md); the output keeps the given order.
        started = {
            index: pool.submit(run_quietly, scenarios[index]) for index in start_order(scenarios)
        }
        futures = [started[index] for index in range(len(scenarios))]
        for index, future in enumerate(futures):
            if index:
                out("")
            result = future.result()
            for line in result.lines:
                out(line)
            results.append(result)
    return results


def _run(
    args: argparse.Namespace, out: Callable[[str], object], *, own_process: bool = False
) -> int:
    from .errors import ScenarioError
    from .junit import write_junit
    from .library import resolve
    from .parser import load_scenario
    from .runner import run

    if args.screenshots is not None and not args.ui:
        return _error("--screenshots needs --ui")
    try:
        server = _server(args)
    except ValueError as problem:
        return _error(str(problem))
    scenarios: list[Scenario] = []
    bad: list[ScenarioError] = []
    for name in args.files:
        try:
            scenarios.append(load_scenario(resolve(name)))
        except ScenarioError as exc:
            bad.append(exc)
    if bad:
        for error in bad:
            print(str(error), file=sys.stderr)
        print(f"phone-sim: {len(bad)} bad scenario file(s); nothing was run", file=sys.stderr)
        if args.junit is not None:
            write_junit(args.junit, [], bad)
        return 2
    if own_process:
        # Everything imported so far (the server's stack, our models, the parsed scenarios)
        # lives until the process ends: out of every later collection, which each walked its
        # 90,000 objects again (docs/decisions/gc-freeze-in-our-own-processes.md).
        gc.freeze()
    if args.ui:
        run_ui = _ui_runner()
        if run_ui is None:
            return _error("scenario run --ui is not available yet; run without --ui")

        def execute(s: Scenario) -> ScenarioResult:
            result: ScenarioResult = run_ui(s, server=server, screenshots=args.screenshots, out=out)
            return result
    else:

        def execute(s: Scenario) -> ScenarioResult:
            return run(s, server=server, out=out)

    results: list[ScenarioResult] = []
    # Side by side only on embedded servers: scenarios sharing one --server would meet each
    # other's policy changes and bulk releases.
    if server is None and not args.ui and not args.fail_fast and len(scenarios) > 1:
        results = _side_by_side(scenarios, out)
    else:
        for index, scenario in enumerate(scenarios):
            if index:
                out("")
            results.append(execute(scenario))
            if args.fail_fast and not results[-1].passed:
                break
    failed = [r.scenario.name for r in results if not r.passed]
    if len(scenarios) > 1:
        skipped = len(scenarios) - len(results)
        rest = f", {skipped} not run" if skipped else ""
        out("")
        out(
            f"{len(scenarios)} scenarios: {len(results) - len(failed)} passed, {len(failed)} failed{rest}"
        )
    if args.junit is not None:
        write_junit(args.junit, results)
    return 1 if failed or len(results) < len(scenarios) else 0
