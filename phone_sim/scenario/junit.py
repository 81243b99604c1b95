"""JUnit XML for CI systems: one ``<testsuite>`` per scenario file, one ``<testcase>`` per step.

A step whose action failed is an ``<error>``, one whose expectation did not hold a
``<failure>``; the steps after it are ``<skipped>`` (they did not run). A file that does not
parse is a suite with one errored ``parse`` case. Each suite carries the run's printed output
in ``<system-out>``. Only the suites' ``time`` is wall-clock; everything else is deterministic.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .errors import ScenarioError
from .runner import ScenarioResult, step_label


def _suite(root: ET.Element, name: str, file: Path, time: float) -> ET.Element:
    return ET.SubElement(
        root, "testsuite", {"name": name, "file": str(file), "time": f"{time:.3f}"}
    )


def _case(suite: ET.Element, classname: str, name: str, file: Path, line: int | None) -> ET.Element:
    attrs = {"classname": classname, "name": name, "file": str(file), "time": "0"}
    if line is not None:
        attrs["line"] = str(line)
    return ET.SubElement(suite, "testcase", attrs)


#: suite attribute -> the child element of a testcase it counts
_TALLIES = {"failures": "failure", "errors": "error", "skipped": "skipped"}


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for attribute, tag in _TALLIES.items():
        suite.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))


def junit_xml(results: Sequence[ScenarioResult], bad_files: Sequence[ScenarioError] = ()) -> bytes:
    root = ET.Element("testsuites", {"name": "phone-sim scenarios"})
    for error in bad_files:
        suite = _suite(root, error.file.stem, error.file, 0.0)
        case = _case(suite, f"scenarios.{error.file.stem}", "parse", error.file, error.line)
        ET.SubElement(case, "error", {"message": str(error), "type": "ScenarioError"}).text = str(
            error
        )
        _count(suite)
    for result in results:
        scenario = result.scenario
        suite = _suite(root, scenario.name, scenario.path, result.duration)
        classname = f"scenarios.{scenario.name}"
        if result.setup_error is not None:
            case = _case(suite, classname, "setup", scenario.path, None)
            ET.SubElement(case, "error", {"message": result.setup_error, "type": "SetupError"})
        ran = {s.step.index: s for s in result.steps}
        blocker = result.failed_step
        for step in scenario.steps:
            name = f"step {step.index:02d}: {step_label(step)}"
            case = _case(suite, classname, name, scenario.path, step.line)
            done = ran.get(step.index)
            if done is None:
                why = (
                    f"step {blocker.step.index} failed" if blocker else "the scenario did not start"
                )
                ET.SubElement(case, "skipped", {"message": f"not run: {why}"})
            elif done.skipped is not None:
                ET.SubElement(case, "skipped", {"message": done.skipped})
            elif not done.ok:
                tag, kind = (
                    ("error", "DriverError") if done.error else ("failure", "ExpectationFailed")
                )
                message = done.failure or "failed"
                ET.SubElement(case, tag, {"message": message, "type": kind}).text = message
        ET.SubElement(suite, "system-out").text = result.output
        _count(suite)
    for tag in ("tests", "failures", "errors", "skipped"):
        root.set(tag, str(sum(int(s.get(tag, "0")) for s in root.findall("testsuite"))))
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_junit(
    path: Path, results: Sequence[ScenarioResult], bad_files: Sequence[ScenarioError] = ()
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(results, bad_files))
