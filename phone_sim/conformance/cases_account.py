"""Cases of version 2's accounts and account lock (PROTOCOL.md section 13), for a server that
declares the ``accounts`` feature (docs/CONFORMANCE.md section 3).

A version 1 server refuses ``"protocol": 2`` (PROTOCOL.md section 12) and conforms all the same,
so these cases run only when declared. Each uses fresh devices and a new account: a device's
first version 2 verdict gives it the vendor's agreement key, from which the kit seals the
password as a phone does (section 13.1). The negative cases follow the protocol cases' rule: the
unbroken twin first, which must be accepted, then the same request with one rule broken.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from phone_sim.protocol.account import ACCOUNT_LOCKED_REASON, AccountAction
from phone_sim.protocol.device_secret import DeviceSecret, seal_password
from phone_sim.protocol.messages import Verdict, VerdictStatus

from .context import Kit
from .drafts import ACCOUNT, ACTIVATION, CHECKIN, Draft
from .errors import CaseFailed
from .features import Feature
from .identities import Identity
from .registry import Case, Group, Kind, twin_then_broken

ACCOUNTS = frozenset({Feature.ACCOUNTS})
#: wrong passwords an account takes in 24 hours before 429 (section 13.2, check 12)
ACCOUNT_ATTEMPTS = 5


@dataclass
class Owner:
    """A device that has had its first version 2 verdict, and the secret it shares with the
    vendor from then on; the account the case made for it."""

    identity: Identity
    secret: DeviceSecret
    name: str
    password: str


def _v2(kit: Kit, identity: Identity, path: str) -> Draft:
    draft = kit.draft(identity, path=path)
    draft.body["protocol"] = 2
    return draft


def _contact(kit: Kit, identity: Identity, path: str, label: str) -> Verdict:
    """A version 2 activation or check-in, answered by a valid version 2 verdict."""
    verdict = kit.activate(_v2(kit, identity, path), label)
    if verdict.protocol != 2:
        raise CaseFailed(f"{label}: a version 2 request got a version {verdict.protocol} verdict")
    return verdict


def _owner(kit: Kit) -> Owner:
    """A fresh device, activated in version 2, and an account name and password of its own."""
    identity = kit.device(fresh=True)
    verdict = _contact(kit, identity, ACTIVATION, "a version 2 activation")
    if verdict.agreement_key is None:
        raise CaseFailed("a version 2 verdict carries no agreement_key (section 13.1)")
    secret = DeviceSecret.on_phone(identity.key, verdict.agreement_key, identity.serial)
    name = f"ck{secrets.token_hex(5)}@example.com"
    return Owner(identity, secret, name, f"kit-{secrets.token_urlsafe(9)}")


def _account_draft(
    kit: Kit,
    owner: Owner,
    action: AccountAction,
    *,
    find_device: bool = True,
) -> Draft:
    """A valid ``POST /v1/account`` (section 13.2), the password sealed for its nonce."""
    draft = _v2(kit, owner.identity, ACCOUNT)
    draft.body["account"] = {
        "action": action.value,
        "name": owner.name,
        "password": "",
        "find_device": find_device,
    }
    _seal(draft, owner, owner.password)
    return draft


def _seal(draft: Draft, owner: Owner, password: str, *, nonce: str | None = None) -> None:
    """Seal ``password`` into ``draft`` for its own nonce (or another request's ``nonce``)."""
    account = draft.body["account"]
    account["password"] = seal_password(
        owner.secret,
        password,
        action=account["action"],
        account=account["name"],
        nonce=nonce or draft.nonce,
    )


def _account(
    kit: Kit, owner: Owner, action: AccountAction, label: str, *, find_device: bool = True
) -> Verdict:
    verdict = kit.activate(_account_draft(kit, owner, action, find_device=find_device), label)
    if verdict.protocol != 2:
        raise CaseFailed(f"{label}: got a version {verdict.protocol} verdict, not 2")
    return verdict


def _bound(verdict: Verdict, owner: Owner, *, locked: bool, when: str) -> None:
    """The verdict tells the device it is bound to ``owner``'s account, locked or not."""
    found = verdict.account
    if found is None:
        raise CaseFailed(f"{when}: the verdict has no account, yet the device is bound to one")
    if found.hint == owner.name:
        raise CaseFailed(f"{when}: the account's hint {found.hint!r} is not masked")
    if found.locked != locked:
        raise CaseFailed(f"{when}: account.locked is {found.locked}, expected {locked}")
    account_locked = (
        verdict.status is VerdictStatus.LOCKED and verdict.reason == ACCOUNT_LOCKED_REASON
    )
    if account_locked != locked:
        raise CaseFailed(
            f"{when}: the verdict says {verdict.status.value} ({verdict.reason}) while the "
            f"account lock {'holds' if locked else 'does not hold'}"
        )


# --- positive --------------------------------------------------------------------------------


def _agreement_key(kit: Kit) -> str:
    owner = _owner(kit)
    again = _contact(kit, owner.identity, CHECKIN, "a version 2 check-in")
    if again.account is not None:
        raise CaseFailed("a device signed in to no account got a verdict with an account")
    if again.agreement_key is None:
        raise CaseFailed("a version 2 check-in's verdict carries no agreement_key")
    return "version 2 verdicts with an agreement key, and no account"


def _sign_in(kit: Kit) -> str:
    owner = _owner(kit)
    signed_in = _account(kit, owner, AccountAction.SIGN_IN, "sign in to a new account")
    _bound(signed_in, owner, locked=False, when="after signing in")
    if signed_in.account is not None and not signed_in.account.find_device:
        raise CaseFailed("signed in with Find Device on, the verdict says find_device false")
    checkin = _contact(kit, owner.identity, CHECKIN, "a check-in after signing in")
    _bound(checkin, owner, locked=False, when="a check-in never engages the lock")
    return f"bound to {signed_in.account.hint if signed_in.account else '?'}, not locked"


def _lock_and_unlock(kit: Kit) -> str:
    owner = _owner(kit)
    _account(kit, owner, AccountAction.SIGN_IN, "sign in with Find Device on")
    reset = _contact(kit, owner.identity, ACTIVATION, "an activation, as after a factory reset")
    _bound(reset, owner, locked=True, when="activated again while bound with Find Device on")
    held = _contact(kit, owner.identity, CHECKIN, "a check-in while the lock holds")
    _bound(held, owner, locked=True, when="a check-in while the lock holds")
    unlocked = _account(kit, owner, AccountAction.UNLOCK, "unlock with the account's password")
    _bound(unlocked, owner, locked=False, when="after unlocking")
    again = _contact(kit, owner.identity, ACTIVATION, "another reset: the lock engages again")
    _bound(again, owner, locked=True, when="the next reset after unlocking")
    return "locked (ACCOUNT_LOCKED) after a reset, lifted by the password, locked at the next"


def _sign_out(kit: Kit) -> str:
    owner = _owner(kit)
    _account(kit, owner, AccountAction.SIGN_IN, "sign in with Find Device on")
    out = _account(kit, owner, AccountAction.SIGN_OUT, "sign out")
    if out.account is not None:
        raise CaseFailed("after signing out, the verdict still names an account")
    reset = _contact(kit, owner.identity, ACTIVATION, "an activation after signing out")
    if reset.account is not None or reset.reason == ACCOUNT_LOCKED_REASON:
        raise CaseFailed(f"signed out, a reset still met the account lock ({reset.reason})")
    return "unbound: no account in the verdicts, and a reset does not lock"


def _find_device_off(kit: Kit) -> str:
    owner = _owner(kit)
    signed_in = _account(
        kit, owner, AccountAction.SIGN_IN, "sign in with Find Device off", find_device=False
    )
    if signed_in.account is None or signed_in.account.find_device:
        raise CaseFailed("signed in with Find Device off, the verdict does not say so")
    reset = _contact(kit, owner.identity, ACTIVATION, "an activation, as after a factory reset")
    _bound(reset, owner, locked=False, when="a reset with Find Device off")
    return "bound with Find Device off: a reset does not lock"


# --- negative --------------------------------------------------------------------------------

Setup = Callable[[Kit], tuple[Owner, Draft]]
Break = Callable[[Owner, Draft, Draft], None]


def _signed_in(action: AccountAction) -> Setup:
    """The twin: ``action`` on an account the device has just signed in to."""

    def setup(kit: Kit) -> tuple[Owner, Draft]:
        owner = _owner(kit)
        _account(kit, owner, AccountAction.SIGN_IN, "sign in first")
        return owner, _account_draft(kit, owner, action)

    return setup


def _new_account(kit: Kit) -> tuple[Owner, Draft]:
    """The twin: a device signing in to a new account."""
    owner = _owner(kit)
    return owner, _account_draft(kit, owner, AccountAction.SIGN_IN)


def _negative(case_id: str, title: str, status: int, code: str, twin: Setup, change: Break) -> Case:
    """The twin (``twin``'s request), which must be accepted; then the same request with a new
    nonce, its password sealed for it, and ``change(owner, broken, twin)`` made, which must get
    ``status`` and ``code``."""

    def run(kit: Kit) -> str:
        owner, first = twin(kit)

        def broken_by(broken: Draft) -> None:
            _seal(broken, owner, owner.password)  # sealed for its own nonce, as the twin's was
            change(owner, broken, first)

        return twin_then_broken(kit, first, broken_by, title, status, code)

    return _case(case_id, title, Kind.NEGATIVE, f"{status} {code}", run)


def _twins_box(owner: Owner, draft: Draft, twin: Draft) -> None:
    _seal(draft, owner, owner.password, nonce=twin.nonce)  # the very box the twin sent


def _short_password(owner: Owner, draft: Draft, twin: Draft) -> None:
    _seal(draft, owner, owner.password[:7])


def _wrong_password(owner: Owner, draft: Draft, twin: Draft) -> None:
    _seal(draft, owner, owner.password + "x")


def _sign_out_twice(owner: Owner, draft: Draft, twin: Draft) -> None:
    pass  # the twin signed the device out: a second sign-out fits no account


def _unlock_unlocked(owner: Owner, draft: Draft, twin: Draft) -> None:
    draft.body["account"]["action"] = AccountAction.UNLOCK.value
    _seal(draft, owner, owner.password)  # the action is sealed with the password


def _version_1(owner: Owner, draft: Draft, twin: Draft) -> None:
    draft.body["protocol"] = 1


def _too_many(kit: Kit) -> str:
    """Check 12: the account's sixth wrong password within a day."""
    kit.steady()  # a fast server clock would age the five failures out of their day
    owner = _owner(kit)
    _account(kit, owner, AccountAction.SIGN_IN, "sign in to a new account (the twin)")
    guesser = _owner(kit)  # another device, signed in to no account: 5 of its 10 a day
    for n in range(ACCOUNT_ATTEMPTS):
        guess = Owner(guesser.identity, guesser.secret, owner.name, owner.password + str(n))
        wrong = kit.send(
            _account_draft(kit, guess, AccountAction.SIGN_IN), f"wrong password {n + 1}"
        )
        kit.refused(wrong, 403, "password_wrong")
    last = Owner(guesser.identity, guesser.secret, owner.name, owner.password)
    exchange = kit.send(
        _account_draft(kit, last, AccountAction.SIGN_IN), "the right password, one too many"
    )
    said = kit.refused(exchange, 429, "too_many_attempts")
    wait = exchange.answer.header("Retry-After")
    if wait is None or not wait.isdigit() or not 0 < int(wait) <= 86400:
        raise CaseFailed(f"429 without a Retry-After of 1 to 86400 seconds ({wait!r})")
    return f"{said}; Retry-After {wait}"


def _case(case_id: str, title: str, kind: Kind, expect: str, run: Callable[[Kit], str]) -> Case:
    return Case(case_id, title, "13.2", Group.ACCOUNTS, kind, expect, run, needs=ACCOUNTS)


def _positive(case_id: str, title: str, run: Callable[[Kit], str]) -> Case:
    return _case(case_id, title, Kind.POSITIVE, "a valid version 2 verdict", run)


def _refused(case_id: str, title: str, status: int, code: str, run: Callable[[Kit], str]) -> Case:
    """A negative case that sends its own twin and broken request (``run``)."""
    return _case(case_id, title, Kind.NEGATIVE, f"{status} {code}", run)


CASES: list[Case] = [
    _positive(
        "ACC-01",
        "version 2 verdicts carry the agreement key, and no account while unbound",
        _agreement_key,
    ),
    _positive("ACC-02", "sign in: the verdicts name the account, masked, not locked", _sign_in),
    _positive(
        "ACC-03",
        "the account lock: a reset locks (ACCOUNT_LOCKED), the password lifts it, the next "
        "reset locks again",
        _lock_and_unlock,
    ),
    _positive("ACC-04", "sign out: no account in the verdicts, a reset does not lock", _sign_out),
    _positive("ACC-05", "Find Device off: a reset does not lock", _find_device_off),
    _negative(
        "ACC-10",
        "the twin's sealed password, in a request of its own",
        400,
        "malformed_request",
        _signed_in(AccountAction.SIGN_IN),
        _twins_box,
    ),
    _negative(
        "ACC-11",
        "a password of 7 characters",
        400,
        "malformed_request",
        _new_account,
        _short_password,
    ),
    _negative(
        "ACC-12",
        "sign out while signed in to no account",
        409,
        "account_refused",
        _signed_in(AccountAction.SIGN_OUT),
        _sign_out_twice,
    ),
    _negative(
        "ACC-13",
        "unlock while the account lock does not hold",
        409,
        "account_refused",
        _signed_in(AccountAction.SIGN_IN),
        _unlock_unlocked,
    ),
    _negative(
        "ACC-14",
        "the wrong password",
        403,
        "password_wrong",
        _signed_in(AccountAction.SIGN_IN),
        _wrong_password,
    ),
    _negative(
        "ACC-15",
        "an account request saying protocol 1",
        400,
        "malformed_request",
        _new_account,
        _version_1,
    ),
    _refused(
        "ACC-16", "the account's sixth wrong password in a day", 429, "too_many_attempts", _too_many
    ),
]
