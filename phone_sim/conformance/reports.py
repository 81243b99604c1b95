"""A run's reports: JUnit XML and JSON for CI, and a transcript of every exchange.

The transcript shows each request and answer as they went on the wire, with secrets taken out:
the admin token wherever it appears (``Authorization: Bearer [redacted]``) and any PEM private
key; long base64 strings (certificates) are shortened for reading. Nothing the kit sends holds
a private key; the redaction is there so that a transcript can be attached to a bug report as
it is.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .runner import CaseResult, Run, Verdict
from .wire import Exchange

REDACTED = "[redacted]"
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S
)
_AUTHORIZATION = re.compile(r"(?i)(authorization:\s*\S+)\s+\S+")
#: base64 runs this long are certificates or padding: shortened in transcripts
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")


class Redactor:
    """Takes secrets out of text: the admin token and PEM private keys."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _AUTHORIZATION.sub(rf"\1 {REDACTED}", text)
        return _PRIVATE_KEY.sub("[redacted private key]", text)


def _shorten(text: str) -> str:
    return _LONG_BASE64.sub(lambda m: f"{m[0][:24]}…[{len(m[0])} characters]", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff\ud800-\udfff]")


def _body(raw: bytes) -> str:
    """The body as text a reader can take in: control characters (a UTF-16 body's NULs, a
    byte order mark) and bytes that are not UTF-8 written as escapes."""
    text = _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", raw.decode("utf-8", "backslashreplace"))
    return text if len(text) <= 4000 else f"{text[:4000]}…[{len(text)} characters]"


def exchange_text(exchange: Exchange, redact: Redactor) -> str:
    request, answer = exchange.request, exchange.answer
    lines = [f"--- {exchange.label}", f"> {request.method} {request.target}"]
    lines += [f"> {name}: {value}" for name, value in request.headers]
    if request.length:
        lines.append(f"> Content-Length: {len(request.body)}")
    if request.body:
        lines.append(f"> {_shorten(_body(request.body))}")
    if answer.error is not None:
        lines.append(f"< (no answer: {answer.error})")
    else:
        lines.append(f"< {answer.status}")
        lines += [f"< {name}: {value}" for name, value in answer.headers]
        if answer.body:
            lines.append(f"< {_shorten(_body(answer.body))}")
    return redact("\n".join(lines))


def transcript(
    run: Run, redact: Redactor, header: list[str], setup: Sequence[Exchange] = ()
) -> str:
    parts = [*header, "", *(exchange_text(e, redact) for e in setup), ""]
    for result in run.results:
        case = result.case
        parts.append(f"=== {case.id} {result.verdict.value}: {case.title} — {result.reason}")
        parts += [exchange_text(exchange, redact) for exchange in result.exchanges]
        parts.append("")
    return redact("\n".join(parts))


def as_json(run: Run, redact: Redactor, about: dict[str, Any]) -> str:
    def case(result: CaseResult) -> dict[str, Any]:
        c = result.case
        return {
            "id": c.id,
            "title": c.title,
            "spec": c.where,
            "group": c.group.value,
            "kind": c.kind.value,
            "expects": c.expect,
            "verdict": result.verdict.value,
            "reason": redact(result.reason),
            "seconds": round(result.seconds, 3),
            "exchanges": [exchange_text(e, redact) for e in result.exchanges],
        }

    summary = {v.value: run.count(v) for v in Verdict}
    document = {**about, "summary": summary, "cases": [case(r) for r in run.results]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def junit_xml(run: Run, redact: Redactor, name: str) -> bytes:
    root = ET.Element("testsuites", {"name": "phone-sim conformance"})
    suite = ET.SubElement(root, "testsuite", {"name": name})
    for result in run.results:
        c = result.case
        attrs = {
            "classname": f"conformance.{c.group.value}",
            "name": f"{c.id} {c.title}",
            "time": f"{result.seconds:.3f}",
        }
        element = ET.SubElement(suite, "testcase", attrs)
        reason = redact(result.reason)
        if result.verdict is Verdict.FAIL:
            failure = ET.SubElement(element, "failure", {"message": reason, "type": "CaseFailed"})
            failure.text = "\n\n".join(exchange_text(e, redact) for e in result.exchanges)
        elif result.verdict is Verdict.SKIP:
            ET.SubElement(element, "skipped", {"message": reason})
    suite.set("tests", str(len(run.results)))
    suite.set("failures", str(run.count(Verdict.FAIL)))
    suite.set("skipped", str(run.count(Verdict.SKIP)))
    suite.set("errors", "0")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
