"""The code blocks of README.md and docs/*.md, and how tests/functional/test_docs_run.py runs them.

Every ```sh, ```bash and ```console block is run, each command exactly as written, and every
```python block is executed (a block that defines ``test_`` functions as a pytest file). A block
runs by itself, without annotation, when its commands end by themselves with status 0. Other
blocks say how on an HTML comment line right above them (invisible once rendered):

    <!-- docs-run: terminal, expect="Welcome" -->

``terminal, expect="TEXT"``
    A program with a screen (the TUI): it runs in a pseudo-terminal of 80 x 24 until ``TEXT``
    is on the screen, gets ctrl+q, and must then end with status 0.
``server, ready="URL"``
    A command that serves until interrupted: started, waited for until ``URL`` answers, then
    interrupted (SIGINT, as Ctrl-C), and must end with status 0.
``background, ready="URL"``
    The same, but left running for the rest of the block and for every block after it in the
    same section (``## `` heading), which each start it again before their own commands; it is
    interrupted at the end of each.
``long, smallest="ARGS"``
    A command too long for a test run (a full benchmark, 10,000 devices), run at its smallest
    size. The rule: each ``--option VALUE`` (or ``-o VALUE``) of ``ARGS`` replaces the value
    that option has in the command, and each ``NAME=VALUE`` sets that variable of a ``make``
    command (replaced or added); a command that ``ARGS`` does not change is an error. The
    command so rewritten is in the test's id.
``with="COMMAND", ready="URL"``
    The block needs a server that the same document starts elsewhere (another section):
    ``COMMAND``, which must be one of the document's commands, is started first and waited
    for, as a ``background`` command is.
``skip, reason="WHY"``
    Not run: for what cannot run here. Rare, and the reason says why.
``file="NAME"``
    On a block of another language (TOML): its text is the file ``NAME`` for the blocks after
    it in the same document.

An annotation with ``for="TEXT"`` applies only to the block's commands that contain ``TEXT``
(several may stand above one block); one without applies to the others. The commands run in a
fresh directory that looks like a checkout (links to the repository's files, ``.venv`` among
them, and an empty ``.phone-sim-data``), with ``.venv/bin`` first on ``PATH`` so that bare
``phone-sim`` and ``vendor-server`` are the checkout's, as in an activated virtualenv.
Consecutive commands of the plain kind run in one shell (a variable set by one is seen by the
next; the first to fail stops them). Why: docs/decisions/docs-are-run-by-the-tests.md.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Mode = Literal["run", "terminal", "server", "background", "long", "skip"]
StepKind = Literal["run", "terminal", "server", "background", "skip", "pytest", "python"]
MODES: tuple[Mode, ...] = ("run", "terminal", "server", "background", "long", "skip")
SHELL_LANGUAGES = ("sh", "bash", "console")
#: what each mode must be told
REQUIRED: dict[Mode, tuple[str, ...]] = {
    "run": (),
    "terminal": ("expect",),
    "server": ("ready",),
    "background": ("ready",),
    "long": ("smallest",),
    "skip": ("reason",),
}
KEYS = ("expect", "ready", "smallest", "reason", "file", "for", "with")

_FENCE = re.compile(r"^```([\w-]*)\s*$")
_ANNOTATION = re.compile(r"^<!--\s*docs-run:(.*)-->\s*$")
_ITEM = re.compile(r"""\s*([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?\s*(?:,|$)""")


class DocsRunError(ValueError):
    """A block or an annotation the test cannot run as it is written."""


@dataclass(frozen=True)
class Annotation:
    mode: Mode = "run"
    values: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> str | None:
        return self.values.get("for")


@dataclass(frozen=True)
class Block:
    doc: str  # relative to the repository, e.g. "docs/FLEET.md"
    line: int  # of the opening fence, from 1
    language: str
    text: str
    section: str
    annotations: tuple[Annotation, ...]

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def file(self) -> str | None:
        return next((a.values["file"] for a in self.annotations if "file" in a.values), None)


@dataclass(frozen=True)
class Step:
    """One thing the runner does: a command (or a Python file's text) and how to run it."""

    kind: StepKind
    command: str
    origin: str  # the block it comes from, "README.md:144"
    expect: str | None = None
    ready: str | None = None
    reason: str | None = None
    written: str | None = None  # the command as the doc writes it, when rewritten (long)


@dataclass(frozen=True)
class Plan:
    """Everything one block's test runs, in order, and the files it needs first."""

    block: Block
    files: tuple[tuple[str, str], ...]
    steps: tuple[Step, ...]

    @property
    def test_id(self) -> str:
        rewritten = [s.command for s in self.steps if s.written and s.origin == self.block.where]
        return self.block.where + (f" as: {'; '.join(rewritten)}" if rewritten else "")


def parse_annotation(text: str, where: str) -> Annotation:
    """``terminal, expect="Welcome"`` (the part after ``docs-run:``) as an Annotation."""
    mode: Mode | None = None
    values: dict[str, str] = {}
    rest = text.strip()
    while rest:
        match = _ITEM.match(rest)
        if match is None or not match.group(0):
            raise DocsRunError(f"{where}: cannot read the docs-run annotation at {rest!r}")
        name, value = match.group(1), match.group(2) or match.group(3)
        rest = rest[match.end() :].strip()
        if value is None:
            if name not in MODES or mode is not None:
                raise DocsRunError(f"{where}: unknown or second mode {name!r} (modes: {MODES})")
            mode = name  # type: ignore[assignment]  # checked against MODES just above
        elif name in KEYS:
            values[name] = value
        else:
            raise DocsRunError(f"{where}: unknown key {name!r} (keys: {', '.join(KEYS)})")
    mode = mode or "run"
    if "with" in values and "ready" not in values:
        raise DocsRunError(f"{where}: with= needs ready=")
    missing = [k for k in REQUIRED[mode] if k not in values]
    if missing:
        raise DocsRunError(f"{where}: a {mode} annotation needs {', '.join(missing)}=")
    return Annotation(mode, values)


def read_blocks(root: Path, doc: str) -> list[Block]:
    """The fenced blocks of ``root/doc``, each with the annotations right above it."""
    lines = (root / doc).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section = ""
    pending: list[Annotation] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        if annotation := _ANNOTATION.match(line):
            pending.append(parse_annotation(annotation.group(1), f"{doc}:{i + 1}"))
        elif fence := _FENCE.match(line):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            text = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append(Block(doc, i + 1, fence.group(1), text, section, tuple(pending)))
            pending = []
            i = end
        elif line.strip() and pending:
            raise DocsRunError(
                f"{doc}:{i + 1}: a docs-run annotation must stand right above a block"
            )
        i += 1
    return blocks


def commands(block: Block) -> list[str]:
    """The commands of a shell block: continuation lines joined; comments and, in a console
    block, the output lines left out."""
    out: list[str] = []
    current = ""
    for raw in block.text.splitlines():
        line = raw
        if block.language == "console":
            if not current and not line.startswith("$ "):
                continue
            line = line[2:] if not current else line.removeprefix("> ")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        out.append(current.strip())
        current = ""
    if current:
        out.append(current.strip())
    return out


def smallest(command: str, args: str) -> str:
    """``command`` at its smallest size by the rule of the module's docstring."""
    tokens = shlex.split(command, comments=True)
    wanted = shlex.split(args)
    changed = False
    i = 0
    while i < len(wanted):
        item = wanted[i]
        if item.startswith("-"):
            if i + 1 >= len(wanted):
                raise DocsRunError(f"smallest={args!r}: {item} has no value")
            value = wanted[i + 1]
            i += 2
            if item in tokens[:-1]:
                tokens[tokens.index(item) + 1] = value
                changed = True
        elif "=" in item and tokens[0] == "make":
            name = item.split("=", 1)[0]
            at = [j for j, t in enumerate(tokens) if t.startswith(name + "=")]
            if at:
                tokens[at[0]] = item
            else:
                tokens.append(item)
            changed = True
            i += 1
        else:
            i += 1
    if not changed:
        raise DocsRunError(f"smallest={args!r} changes nothing in {command!r}")
    return shlex.join(tokens)


def _annotation_for(command: str, block: Block) -> Annotation:
    scoped = [a for a in block.annotations if a.scope is not None and a.scope in command]
    if scoped:
        return scoped[0]
    plain = [
        a for a in block.annotations if a.scope is None and not {"file", "with"} & set(a.values)
    ]
    if len(plain) > 1:
        raise DocsRunError(f"{block.where}: more than one annotation without for=")
    return plain[0] if plain else Annotation()


def steps_of(block: Block) -> list[Step]:
    """What running ``block`` means, command by command."""
    if block.language == "python":
        kind: StepKind = "pytest" if re.search(r"^def test_", block.text, re.M) else "python"
        skip = [a for a in block.annotations if a.mode == "skip"]
        if skip:
            return [Step("skip", block.text, block.where, reason=skip[0].values["reason"])]
        return [Step(kind, block.text, block.where)]
    steps = []
    for command in commands(block):
        a = _annotation_for(command, block)
        v = a.values
        if a.mode == "long":
            rewritten = smallest(command, v["smallest"])
            steps.append(Step("run", rewritten, block.where, written=command))
        elif a.mode == "skip":
            steps.append(Step("skip", command, block.where, reason=v["reason"]))
        else:
            steps.append(Step(a.mode, command, block.where, v.get("expect"), v.get("ready")))
    return steps


def _words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def is_run(block: Block) -> bool:
    return block.language in (*SHELL_LANGUAGES, "python")


def plans(root: Path, docs: list[str]) -> list[Plan]:
    """One plan per shell or Python block of ``docs``: the files and background servers of the
    blocks before it, then its own steps."""
    out = []
    for doc in docs:
        files: dict[str, str] = {}
        background: list[Step] = []
        section = None
        blocks = read_blocks(root, doc)
        documented = [
            _words(c) for b in blocks if b.language in SHELL_LANGUAGES for c in commands(b)
        ]
        for block in blocks:
            if block.section != section:
                section, background = block.section, []
            if block.file is not None:
                files[block.file] = block.text
            if not is_run(block):
                continue
            needed = []
            for a in block.annotations:
                if "with" in a.values:
                    if _words(a.values["with"]) not in documented:
                        raise DocsRunError(f"{block.where}: with= names no command of {doc}")
                    needed.append(
                        Step("background", a.values["with"], block.where, ready=a.values["ready"])
                    )
            own = steps_of(block)
            out.append(Plan(block, tuple(files.items()), (*background, *needed, *own)))
            background += [s for s in own if s.kind == "background"]
    return out
