"""The numbers a phone reports: IMEIs (Luhn check digit), MCCs and MNCs, valid and not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phone_sim.protocol.imei import (
    is_valid_imei,
    is_valid_mcc,
    is_valid_mnc,
    luhn_check_digit,
    make_imei,
)

# --- IMEI, MCC, MNC ----------------------------------------------------------------------------


def test_known_imei() -> None:
    # The worked example from the Luhn/IMEI literature.
    assert luhn_check_digit("49015420323751") == 8
    assert is_valid_imei("490154203237518")
    assert not is_valid_imei("490154203237519")


@given(st.from_regex(r"[0-9]{8}", fullmatch=True), st.integers(0, 999_999))
def test_make_imei_is_always_valid(tac: str, serial: int) -> None:
    imei = make_imei(tac, serial)
    assert len(imei) == 15
    assert imei.startswith(tac)
    assert is_valid_imei(imei)


@given(
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.integers(0, 999_999),
    st.integers(0, 14),
    st.integers(1, 9),
)
def test_any_single_digit_change_breaks_the_imei(
    tac: str, serial: int, position: int, delta: int
) -> None:
    imei = make_imei(tac, serial)
    digit = str((int(imei[position]) + delta) % 10)
    assert not is_valid_imei(imei[:position] + digit + imei[position + 1 :])


def test_every_single_digit_change_of_one_imei_is_caught() -> None:
    imei = make_imei("86753104", 1)
    for position in range(15):
        for digit in "0123456789":
            changed = imei[:position] + digit + imei[position + 1 :]
            assert is_valid_imei(changed) == (changed == imei)


@pytest.mark.parametrize(
    "imei",
    [
        None,
        490154203237518,
        "49015420323751",
        "4901542032375180",
        "49015420323751a",
        "٤٩٠١٥٤٢٠٣٢٣٧٥١٨",  # Arabic-Indic digits: isdigit() but not ASCII
        " 90154203237518",
    ],
)
def test_invalid_imeis(imei: object) -> None:
    assert not is_valid_imei(imei)


@pytest.mark.parametrize(("tac", "serial"), [("1234567", 1), ("123456789", 1), ("1234567a", 1)])
def test_make_imei_refuses_bad_tac(tac: str, serial: int) -> None:
    with pytest.raises(ValueError, match="TAC"):
        make_imei(tac, serial)


@pytest.mark.parametrize("serial", [-1, 1_000_000])
def test_make_imei_refuses_bad_serial(serial: int) -> None:
    with pytest.raises(ValueError, match="serial"):
        make_imei("86753104", serial)


@pytest.mark.parametrize("mcc", ["262", "368", "432", "460", "250", "310", "405", "200", "799"])
def test_valid_mccs(mcc: str) -> None:
    assert is_valid_mcc(mcc)


@pytest.mark.parametrize(
    "mcc", ["068", "199", "800", "999", "36", "3680", "36a", 368, None, " 368"]
)
def test_invalid_mccs(mcc: object) -> None:
    assert not is_valid_mcc(mcc)


@pytest.mark.parametrize("mnc", ["01", "00", "32", "872", "192", "999"])
def test_valid_mncs(mnc: str) -> None:
    assert is_valid_mnc(mnc)


@pytest.mark.parametrize("mnc", ["1", "1234", "a1", "", 1, None, "01\n"])
def test_invalid_mncs(mnc: object) -> None:
    assert not is_valid_mnc(mnc)
