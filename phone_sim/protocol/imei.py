"""IMEI check digits (Luhn) and MCC/MNC syntax, shared by the device catalogue and the server."""

from __future__ import annotations

import re

_MCC = re.compile(r"^[2-7][0-9]{2}$")
_MNC = re.compile(r"^[0-9]{2,3}$")


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit that makes ``digits`` + digit valid."""
    total = 0
    # Double every second digit counting from the right of the *final* number,
    # i.e. the rightmost payload digit is doubled.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def make_imei(tac: str, serial_number: int) -> str:
    """A 15-digit IMEI from an 8-digit type allocation code and a 6-digit serial."""
    if not (len(tac) == 8 and tac.isdigit()):
        raise ValueError(f"TAC must be 8 digits, got {tac!r}")
    if not 0 <= serial_number <= 999_999:
        raise ValueError("IMEI serial number must be 0..999999")
    body = f"{tac}{serial_number:06d}"
    return body + str(luhn_check_digit(body))


def is_valid_imei(imei: object) -> bool:
    """True for a 15-digit string whose last digit is its Luhn check digit."""
    if not isinstance(imei, str) or len(imei) != 15 or not imei.isascii() or not imei.isdigit():
        return False
    return luhn_check_digit(imei[:14]) == int(imei[14])


def is_valid_mcc(mcc: object) -> bool:
    """Mobile country codes are three digits, 2xx-7xx in the ITU allocation."""
    # fullmatch, not match: "$" also matches before a trailing newline, so "368\n" would pass.
    return isinstance(mcc, str) and bool(_MCC.fullmatch(mcc))


def is_valid_mnc(mnc: object) -> bool:
    """Mobile network codes are two or three digits."""
    return isinstance(mnc, str) and bool(_MNC.fullmatch(mnc))
