"""Policy texts for tests: the packaged policy with exact, checked replacements."""

from __future__ import annotations

from server_stub.policy import default_policy_text

DAY = 86_400
HOUR = 3_600
DEFAULT_VERSION_LINE = 'version = "2021-09-sanctions-2"'


def policy_text(*replacements: tuple[str, str], extra: str = "", version: str = "test-1") -> str:
    """The packaged policy with text replacements (each must apply) and another version."""
    text = default_policy_text()
    for old, new in ((DEFAULT_VERSION_LINE, f'version = "{version}"'), *replacements):
        assert old in text, f"{old!r} is not in the default policy"
        text = text.replace(old, new)
    return text + extra


def delay(days: float) -> tuple[str, str]:
    return ("delay_days = 3", f"delay_days = {days}")


def sim_swap_lifts_lock() -> tuple[str, str]:
    return ("sim_swap_lifts_lock = false", "sim_swap_lifts_lock = true")


def dual_sim(rule: str) -> tuple[str, str]:
    return ('dual_sim = "any"', f'dual_sim = "{rule}"')


def without_cuba() -> tuple[str, str]:
    return ('[[territories]]\nname = "Cuba"\nnetworks = ["368"]\n\n', "")


def region_lock(**markets: str) -> str:
    """A ``[region_lock]`` table to pass as ``extra`` (tables may follow the territories)."""
    lines = "".join(f'{market} = "{rule}"\n' for market, rule in markets.items())
    return f"\n[region_lock]\n{lines}"


def offline(lock_after_days: float, warn_days_before: float) -> str:
    return (
        f"\n[offline]\nlock_after_days = {lock_after_days}\nwarn_days_before = {warn_days_before}\n"
    )
