"""Every case of the kit, in the order they run (docs/CONFORMANCE.md section 5)."""

from __future__ import annotations

from . import (
    cases_account,
    cases_body,
    cases_exchange,
    cases_identity,
    cases_policy,
    cases_signature,
)
from .registry import Case, registry

CASES: dict[str, Case] = registry(
    cases_exchange.CASES,
    cases_body.CASES,
    cases_signature.CASES,
    cases_identity.CASES,
    cases_policy.CASES,
    cases_account.CASES,
)
