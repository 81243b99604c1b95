"""A phone's state file written by an earlier version still loads, and is written back the same.

``state_files/state-25fa9dc.json`` was written by the code of commit 25fa9dc (before the device
model stopped loading the protocol's pydantic models at import,
docs/decisions/tui-first-frame-imports.md), for an activated phone that holds every field: the
last verdict as received (the committed version 2 warning vector), contact details, a lock
warning whose notice was dismissed, an offline rule and a time floor. A phone of today reads it
as that version did, and a file that is broken is still reported, never reset.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from phone_sim.device.errors import CorruptStateError
from phone_sim.device.state import Activation
from phone_sim.device.storage import DeviceStorage, PersistedState, StoredVerdict
from phone_sim.protocol.lock_screen import LockWarning

WRITTEN_BY_25FA9DC = Path(__file__).parent / "state_files" / "state-25fa9dc.json"
VERDICT = json.loads(
    (Path(__file__).parents[1] / "vectors" / "v2_warning_verdict.json").read_text()
)

#: what that file holds, field by field
EXPECTED = PersistedState(
    activation=Activation.ACTIVATED,
    last_sequence=1,
    reason="ACTIVATION_OK",
    message="Your device has been activated.",
    last_verdict=StoredVerdict(200, VERDICT["headers"], VERDICT["body"]),
    used_nonces=("n0nce-of-an-earlier-request", "test-vector-nonce-2021-09-01-v2"),
    language="English",
    verdict_at=1630497600.5,
    verdict_expires_at=1631102400,
    offline_lock_after=7 * 86400,
    offline_warning_before=86400,
    time_floor=1630497600.25,
    contact_phone="+86 400 100 5678",
    contact_email="service.global@xiaomi.example",
    lock_warning=LockWarning(
        lock_at=1630756800,
        notice_at=1630584000,
        notice="This device will be locked in two days. Please contact the retailer.",
        reminder_at=1630670400,
        reminder="This device will be locked tomorrow. Back up your data now.",
    ),
    notice_dismissed=True,
)


@pytest.fixture
def storage(tmp_path: Path) -> DeviceStorage:
    storage = DeviceStorage(tmp_path / "phone")
    storage.directory.mkdir()
    shutil.copy(WRITTEN_BY_25FA9DC, storage.state_path)
    return storage


def test_a_state_file_of_25fa9dc_loads_field_by_field(storage: DeviceStorage) -> None:
    assert storage.load_state() == EXPECTED


def test_it_is_written_back_byte_for_byte(storage: DeviceStorage) -> None:
    storage.save_state(storage.load_state())
    assert storage.state_path.read_bytes() == WRITTEN_BY_25FA9DC.read_bytes()


def test_its_lock_warning_broken_is_reported_not_reset(storage: DeviceStorage) -> None:
    data = json.loads(WRITTEN_BY_25FA9DC.read_bytes())
    data["lock_warning"]["reminder_at"] = data["lock_warning"]["lock_at"] + 1  # out of order
    storage.state_path.write_text(json.dumps(data))
    with pytest.raises(CorruptStateError, match=r"state\.json.*lock_warning"):
        storage.load_state()
    assert json.loads(storage.state_path.read_bytes()) == data  # left for the user to inspect
