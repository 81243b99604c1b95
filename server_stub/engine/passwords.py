"""Account passwords as the vendor keeps them: scrypt hashes with a salt each, never the password.

scrypt (RFC 7914) from the standard library, N = 2^14, r = 8, p = 1: 16 MiB and about 50 ms
per check on one core, so a stolen database costs a guesser that much per guess and account.
The parameters are stored with each hash (``kdf``), so they can be raised later without
invalidating old accounts. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from server_stub.store.accounts import AccountRow

N, R, P = 2**14, 8, 1
KDF = f"scrypt:{N}:{R}:{P}"
SALT_BYTES = 16
HASH_BYTES = 32


def _scrypt(password: str, salt: bytes, kdf: str) -> bytes:
    name, n, r, p = kdf.split(":")
    if name != "scrypt":
        raise ValueError(f"unknown password hash {kdf!r}")
    return hashlib.scrypt(
        password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=HASH_BYTES
    )


def new_account(name: str, password: str, *, at: int) -> AccountRow:
    """A new account's row: a fresh salt and the password's hash."""
    salt = os.urandom(SALT_BYTES)
    return AccountRow(name, KDF, salt, _scrypt(password, salt, KDF), at)


def password_matches(account: AccountRow, password: str) -> bool:
    return hmac.compare_digest(_scrypt(password, account.salt, account.kdf), account.password_hash)
