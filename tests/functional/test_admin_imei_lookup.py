"""An operator's IMEI is looked up before the write lock, never within it.

Finding a device by its IMEI reads every device's IMEIs: at 1,000,000 devices 0.2 s, 0.6 s for
an IMEI no device has (a hold on a device not seen yet looks first). Inside the write
transaction every contact waited for it. An index on the IMEIs would cost every first
activation (docs/decisions/imei-lookups-outside-the-write-lock.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from phone_sim.protocol.imei import make_imei
from server_stub.admin.client import AdminClient, AdminHttpError
from server_stub.store.db import Store, Tx
from tests.support.signed_client import sim
from tests.support.vendor import DAY, TELEKOM, Phones, advance


@pytest.fixture
def inside_writes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each IMEI lookup, whether it ran inside a write transaction (on its thread)."""
    writing = threading.local()
    seen: list[bool] = []
    transaction, by_imei = Store.transaction, Tx.device_by_imei

    @contextmanager
    def marked(self: Store) -> Iterator[Tx]:
        with transaction(self) as tx:
            writing.now = True
            try:
                yield tx
            finally:
                writing.now = False

    def recorded(self: Tx, imei: str) -> object:
        seen.append(getattr(writing, "now", False))
        return by_imei(self, imei)

    monkeypatch.setattr(Store, "transaction", marked)
    monkeypatch.setattr(Tx, "device_by_imei", recorded)
    return seen


def test_locks_releases_and_account_actions_by_imei_look_it_up_first(
    phones: Phones, admin: AdminClient, inside_writes: list[bool]
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    imei = phone.identity.claims.imeis[1]
    held = admin.lock(imei, reason="investigation")  # a device the vendor knows, by its IMEI
    assert (held.serial, held.state) == (phone.serial, "held")
    advance(phone.server, DAY)
    assert phone.checkin().reason == "INVESTIGATION_HOLD"
    assert admin.release(imei, reason="cleared").serial == phone.serial
    with pytest.raises(AdminHttpError) as info:
        admin.clear_account(imei, reason="support")
    assert info.value.code == "no_account"

    unseen = make_imei("35000000", 7)  # a hold on a device not seen yet
    assert admin.lock(unseen, reason="investigation").state == "never-seen"
    assert admin.lock(unseen, reason="still").state == "never-seen"  # its hold, found by key
    assert inside_writes and not any(inside_writes), inside_writes


def test_a_device_met_after_its_imei_was_looked_up_is_held_at_its_next_contact(
    phones: Phones, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the lookup outside the lock leaves: the device activates between the lookup
    and the write. The hold goes on its IMEI, and its next contact claims it."""
    from server_stub.admin import ops, views

    phone = phones()
    imei = phone.identity.claims.imeis[0]
    locate = views.locate

    def then_activates(context: object, ident: str) -> views.Located:
        located = locate(context, ident)  # type: ignore[arg-type]
        phone.activate(sim(TELEKOM))
        return located

    monkeypatch.setattr(ops, "locate", then_activates)
    assert admin.lock(imei, reason="investigation").state == "never-seen"
    advance(phone.server, DAY)
    assert phone.checkin().reason == "INVESTIGATION_HOLD"
