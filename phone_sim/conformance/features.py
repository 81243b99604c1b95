"""What a server declares beyond PROTOCOL.md: the features file (docs/CONFORMANCE.md section 3).

```toml
# conformance.toml, beside the server (paths are relative to this file)
policy = "story"                                  # the policy it decides by, if one we know
features = ["admin-clock", "admin-policy", "admin-devices"]
admin_token_file = "vendor/admin.token"           # the admin-* features need it
```

A case that needs a feature (or a policy) the file does not declare is SKIPPED, never FAILED.
The file is read through :mod:`phone_sim.tomlfile` into :class:`FeaturesFile`: a closed,
strict model, every problem reported at once with its line. No file means a server that
offers the protocol and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import model_validator

from phone_sim.tomlfile import Closed, InvalidFile, Lax, load, problem

from .errors import KitSetupError


class Feature(StrEnum):
    """An optional feature a server may declare (docs/CONFORMANCE.md section 3)."""

    #: ``GET /admin/clock`` and ``POST /admin/clock/advance`` (docs/OPERATOR.md section 3.2)
    ADMIN_CLOCK = "admin-clock"
    #: ``GET`` and ``PUT /admin/policy``, taking a policy file of docs/OPERATOR.md section 5
    ADMIN_POLICY = "admin-policy"
    #: ``POST /admin/devices/{ident}/lock`` and ``.../release``
    ADMIN_DEVICES = "admin-devices"
    #: version 2's accounts and account lock: ``POST /v1/account`` (PROTOCOL.md section 13.2)
    ACCOUNTS = "accounts"


#: the features that act through the admin API, and so need the operator's token
ADMIN_FEATURES = frozenset({Feature.ADMIN_CLOCK, Feature.ADMIN_POLICY, Feature.ADMIN_DEVICES})


class PolicyName(StrEnum):
    """A policy the kit knows the decisions of (docs/CONFORMANCE.md section 4)."""

    STORY = "story"


class FeaturesFile(Closed):
    """The file's keys (module docstring)."""

    policy: Lax[PolicyName] | None = None
    features: list[Lax[Feature]] = []
    admin_token_file: str | None = None

    @model_validator(mode="after")
    def _token_for_admin_features(self) -> Self:
        if self.admin_token_file is None and ADMIN_FEATURES.intersection(self.features):
            raise problem("the admin-* features need admin_token_file (the operator's token)")
        if len(set(self.features)) != len(self.features):
            raise problem("a feature is listed twice")
        return self


@dataclass(frozen=True)
class Declared:
    """What the server under test offers beyond the protocol, as the kit uses it."""

    features: frozenset[Feature] = frozenset()
    policy: PolicyName | None = None
    admin_token: str | None = None
    source: str = "no features file: the protocol only"

    def describe(self) -> str:
        policy = f"policy {self.policy.value}" if self.policy else "no policy declared"
        features = ", ".join(sorted(f.value for f in self.features)) or "no optional features"
        return f"{policy}; {features} ({self.source})"


def load_features(path: Path) -> Declared:
    """Read and validate ``path``; read the admin token it names.

    Raises:
        KitSetupError: every problem, each with the file's name and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KitSetupError(f"{path}: cannot read the features file: {exc}") from None
    try:
        model, _ = load(FeaturesFile, text)
    except InvalidFile as exc:
        raise KitSetupError("\n".join(exc.lines(str(path)))) from None
    token = None
    if model.admin_token_file is not None:
        token_path = path.parent / model.admin_token_file
        try:
            token = token_path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KitSetupError(
                f"{path}: admin_token_file: cannot read the admin token {token_path}: {exc}"
            ) from None
        if not token:
            raise KitSetupError(f"{path}: admin_token_file: {token_path} is empty")
    return Declared(frozenset(model.features), model.policy, token, str(path))
