"""The kit as the cases use it: the server, its pinned key, the devices, the time, the record.

A case gets one :class:`Kit`; ``kit.draft()`` gives a valid request for a device, ``kit.send``
sends a draft (or a hand-made request) and records the exchange, ``kit.accepted`` and
``kit.refused`` check the answer against the spec. Nothing here knows any server's internals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import Verdict
from phone_sim.protocol.timesync import TimeAnswer

from . import answers
from .clock import ServerTime
from .drafts import ACTIVATION, JSON, TIME, Draft, activation_body, canonical, new_nonce, sim
from .errors import CaseFailed, CaseSkipped, KitSetupError, NotSignedByThePinnedKey
from .features import Declared, load_features
from .identities import Identities, Identity, load_issued, open_factory
from .signer import ALG, Signature, base, byte_sequence, digest, sign_p256
from .wire import Exchange, Request, Server

#: the fastest server clock (its seconds per real second) the cases with time margins run on
STEADY = 10


@dataclass(frozen=True)
class KitConfig:
    """What the user points the kit at (``phone-sim conformance`` options)."""

    server: str
    vendor_key: Path
    factory: Path | None = None
    devices: Sequence[Path] = ()
    features: Path | None = None


@dataclass
class Kit:
    server: Server
    vendor_key: ed25519.Ed25519PublicKey
    identities: Identities
    declared: Declared = field(default_factory=Declared)
    #: the exchanges of the case being run (the runner takes them after each case)
    exchanges: list[Exchange] = field(default_factory=list)
    #: the last sequence each device was given, by serial
    sequences: dict[str, int] = field(default_factory=dict)
    time: ServerTime = field(default_factory=lambda: ServerTime.local("not asked yet"))
    #: the exchanges of setting up (the kit taking the server's time)
    setup: list[Exchange] = field(default_factory=list)
    #: why the server's signed time did not verify with the pinned key, if it did not: every
    #: signed answer will then fail the same way (``--vendor-key`` is likely another server's)
    key_doubt: str | None = None

    @classmethod
    def open(cls, config: KitConfig) -> Kit:
        """Read what ``config`` names and learn the server's time.

        Raises:
            KitSetupError: a file is missing or unreadable, or no identity source was given.
        """
        try:
            key = load_vendor_public_key(config.vendor_key)
        except (OSError, ValueError) as exc:
            raise KitSetupError(f"{config.vendor_key}: cannot read the vendor key: {exc}") from None
        if config.factory is None and not config.devices:
            raise KitSetupError(
                "the kit needs device identities the server trusts: --factory DIR, or "
                "--device DIR from `phone-sim factory issue`"
            )
        identities = Identities(
            factory=None if config.factory is None else open_factory(config.factory),
            issued=[load_issued(path) for path in config.devices],
        )
        declared = Declared() if config.features is None else load_features(config.features)
        kit = cls(Server(config.server), key, identities, declared)
        kit.sync_time()
        first = kit.exchanges[-1].answer
        if first.error is not None and not first.status:
            # Nothing answered at all (refused, unreachable, silent): every case would fail
            # the same way, so the run stops here, saying why once.
            raise KitSetupError(
                f"{config.server}: no answer to the kit's first request ({first.describe()}); "
                "is the server running there?"
            )
        kit.setup, kit.exchanges = list(kit.exchanges), []  # the setup's exchange is no case's
        return kit

    @property
    def key_id(self) -> str:
        return vendor_key_id(self.vendor_key)

    # --- time ---------------------------------------------------------------------------

    def now(self) -> int:
        return self.time.now()

    def steady(self) -> None:
        """Skip a case whose time margins (a minute or more of the server's time) a fast
        server clock would eat within a real second.

        Raises:
            CaseSkipped: the server's clock runs more than ``STEADY`` times real time.
        """
        if self.time.speed > STEADY:
            raise CaseSkipped(
                f"the server's clock runs {self.time.speed:g} times real time: this case's "
                f"margins need {STEADY} or less"
            )

    def ask_time(
        self, nonce: str | None = None, label: str = "ask the server's time"
    ) -> tuple[Exchange, str]:
        nonce = nonce or new_nonce()
        request = self.plain(TIME, canonical({"nonce": nonce, "protocol": 2}))
        return self.send(request, label), nonce

    def sync_time(self) -> TimeAnswer | None:
        """Take the server's time from its signed answer (the local clock if there is none)."""
        exchange, nonce = self.ask_time(label="the kit takes the server's time")
        try:
            answer = answers.time_answer(
                exchange, nonce=nonce, key=self.vendor_key, key_id=self.key_id
            )
        except CaseFailed as exc:
            if isinstance(exc, NotSignedByThePinnedKey):
                self.key_doubt = str(exc)
            self.time = ServerTime.local(f"no valid signed time: {exc}")
            return None
        self.time = ServerTime.signed(answer.now, answer.speed, answer.mode.value)
        return answer

    # --- requests -----------------------------------------------------------------------

    def device(self, *, fresh: bool = False) -> Identity:
        return self.identities.fresh() if fresh else self.identities.shared()

    def draft(
        self,
        identity: Identity | None = None,
        *,
        path: str = ACTIVATION,
        sims: list[dict[str, Any]] | None = None,
        fresh: bool = False,
    ) -> Draft:
        """A valid, signed-when-built request from ``identity`` (default: the shared device)."""
        identity = identity or self.device(fresh=fresh)
        nonce = new_nonce()
        certificates = [base64.b64encode(der).decode() for der in identity.chain]
        body = activation_body(identity, certificates, nonce, [sim()] if sims is None else sims)
        signature = Signature(
            params=[
                ("created", self.now()),
                ("keyid", identity.serial),
                ("alg", ALG),
                ("nonce", nonce),
            ]
        )
        return Draft(identity, body, signature, path=path)

    def build(self, draft: Draft) -> Request:
        """``draft`` as the bytes and header lines that go on the wire."""
        body = draft.raw if draft.raw is not None else canonical(draft.body)
        request = Request(
            draft.method, draft.path, [("Host", draft.host or self.server.authority)], body
        )
        if draft.content_type is not None:
            request.headers.append(("Content-Type", draft.content_type))
        request.headers.append(("Content-Digest", draft.digest_header or digest(body)))
        request.headers.extend(draft.extra_headers)
        if draft.signed:
            values = {
                "@method": draft.method,
                "@target-uri": draft.signed_uri or self.server.target_uri(draft.path),
            }
            for name, _ in request.headers:
                values.setdefault(name.lower(), request.header(name) or "")
            message = base(draft.signature, values)
            raw = sign_p256(draft.signing_key or draft.identity.key, message)
            label = draft.signature.label
            request.headers.append(("Signature-Input", f"{label}={draft.signature.inner_list()}"))
            request.headers.append(("Signature", f"{label}={byte_sequence(raw)}"))
        for edit in draft.after:
            edit(request)
        return request

    def plain(self, path: str, body: bytes, method: str = "POST") -> Request:
        """An unsigned request (the time endpoint, a probe)."""
        return Request(
            method, path, [("Host", self.server.authority), ("Content-Type", JSON)], body
        )

    def send(self, what: Draft | Request, label: str) -> Exchange:
        request = self.build(what) if isinstance(what, Draft) else what
        exchange = self.server.send(request, label)
        self.exchanges.append(exchange)
        return exchange

    # --- answers ------------------------------------------------------------------------

    def accepted(self, exchange: Exchange, draft: Draft) -> Verdict:
        """The valid verdict answering ``draft`` (sections 7 and 8); remembers its sequence."""
        serial = draft.identity.serial
        found = answers.verdict(
            exchange,
            identity=draft.identity,
            nonce=draft.nonce,
            key=self.vendor_key,
            key_id=self.key_id,
            now=self.now(),
            last_sequence=self.sequences.get(serial),
        )
        self.sequences[serial] = found.sequence
        return found

    def activate(self, draft: Draft, label: str = "a valid request") -> Verdict:
        return self.accepted(self.send(draft, label), draft)

    def refused(self, exchange: Exchange, status: int, code: str) -> str:
        return answers.refusal(exchange, status, code)

    # --- the operator (declared admin-* features only) ----------------------------------

    def admin(self, method: str, path: str, body: Any = None, label: str = "admin") -> Exchange:
        """An admin API call with the declared token (docs/OPERATOR.md section 3)."""
        text = body if isinstance(body, str) else (b"" if body is None else json.dumps(body))
        data = text.encode() if isinstance(text, str) else text
        request = self.plain(path, data, method)
        request.headers.append(("Authorization", f"Bearer {self.declared.admin_token or ''}"))
        return self.send(request, label)
