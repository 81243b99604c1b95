"""The case registry: every case's number, what it checks, where the spec says so, and its run.

A case is data (:class:`Case`) plus a function of the :class:`~.context.Kit`. Most are made by
:func:`negative` (a valid request, accepted, then its twin with exactly one rule broken, which
must get the error the spec names) or :func:`positive` (a valid variation, which must get a
valid verdict). ``docs/CONFORMANCE.md`` lists them all; its table is :func:`markdown_table`,
and a test keeps the two the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from .context import Kit
from .drafts import Draft
from .errors import CaseFailed
from .features import Feature, PolicyName

Run = Callable[[Kit], str]
Change = Callable[[Kit, Draft], None]


class Group(StrEnum):
    """Who a case applies to: every server, a server of a declared policy, of a declared admin
    feature, or one that declares version 2's accounts."""

    PROTOCOL = "protocol"
    POLICY = "policy"
    OPTIONAL = "optional"
    #: version 2's accounts (PROTOCOL.md section 13), for a server that declares ``accounts``
    ACCOUNTS = "accounts"


class Kind(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    #: the sections of ``doc`` that say what is expected
    section: str
    group: Group
    kind: Kind
    #: what the server must answer, in a few words ("401 signature_invalid", "a verdict")
    expect: str
    run: Run
    needs: frozenset[Feature] = frozenset()
    policy: PolicyName | None = None
    #: needs certificates only the factory can issue (``--factory``)
    factory: bool = False
    #: for a negative case breaking more than one rule on purpose (which error wins), why
    note: str = ""
    #: the document ``section`` is of
    doc: str = "PROTOCOL.md"

    @property
    def where(self) -> str:
        """``PROTOCOL.md 5.1``: where the spec says what this case checks."""
        return f"{self.doc} {self.section}"


def _twin(kit: Kit) -> Draft:
    return kit.draft()


def negative(
    case_id: str,
    title: str,
    section: str,
    status: int,
    code: str,
    change: Change,
    *,
    twin: Callable[[Kit], Draft] = _twin,
    factory: bool = False,
    note: str = "",
) -> Case:
    """A valid request (the twin), which must be accepted; then the same request with a new
    nonce and ``change`` made, which must be refused with ``status`` and ``code``."""

    def run(kit: Kit) -> str:
        return twin_then_broken(kit, twin(kit), partial(change, kit), title, status, code)

    return Case(
        case_id,
        title,
        section,
        Group.PROTOCOL,
        Kind.NEGATIVE,
        f"{status} {code}",
        run,
        factory=factory,
        note=note,
    )


def twin_then_broken(
    kit: Kit, first: Draft, change: Callable[[Draft], None], title: str, status: int, code: str
) -> str:
    """Send ``first``, which must be accepted; then a copy with a new nonce, signed now, and
    ``change`` made to it, which must be refused with ``status`` and ``code``."""
    try:
        kit.activate(first, "the unbroken twin")
    except CaseFailed as exc:
        raise CaseFailed(f"the unbroken twin was not accepted: {exc}") from None
    broken = first.copy().renonce()
    broken.signature.set_param("created", kit.now())
    change(broken)
    return kit.refused(kit.send(broken, title), status, code)


def positive(
    case_id: str, title: str, section: str, change: Change, *, fresh: bool = False
) -> Case:
    """A valid request with ``change`` made, which must get a valid verdict."""

    def run(kit: Kit) -> str:
        draft = kit.draft(fresh=fresh)
        change(kit, draft)
        verdict = kit.activate(draft, title)
        return f"verdict {verdict.status.value} ({verdict.reason}), sequence {verdict.sequence}"

    return Case(case_id, title, section, Group.PROTOCOL, Kind.POSITIVE, "a valid verdict", run)


def registry(*groups: Iterable[Case]) -> dict[str, Case]:
    """The cases by id, in order; an id twice is a bug."""
    cases: dict[str, Case] = {}
    for case in (c for group in groups for c in group):
        if case.id in cases:
            raise AssertionError(f"case id {case.id} is used twice")
        cases[case.id] = case
    return cases


def markdown_table(cases: Iterable[Case]) -> str:
    """The table of docs/CONFORMANCE.md section 5: one row per case."""
    rows = [
        "| case | group | kind | checks | spec | expects | needs |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        needs = [f.value for f in sorted(case.needs)]
        if case.policy is not None:
            needs.insert(0, f"policy {case.policy.value}")
        if case.factory:
            needs.append("--factory")
        title = case.title + (f" ({case.note})" if case.note else "")
        rows.append(
            f"| {case.id} | {case.group.value} | {case.kind.value} | {title} | {case.where} "
            f"| {case.expect} | {', '.join(needs) or '—'} |"
        )
    return "\n".join(rows) + "\n"
