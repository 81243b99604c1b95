"""The policy as plain frozen values: territories, matching, enforcement timing, options.

A policy names territories by their networks, either a whole MCC (``"368"``, Cuba) or one
operator as MCC-MNC (``"250-60"``, Volna in Crimea). Crimea's operators share Russia's MCC 250,
so a rule on MCC alone would lock all of Russia or miss Crimea: MCC-MNC entries exist for that.
Durations are kept in whole seconds, as verdicts carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from phone_sim.protocol.imei import is_valid_mcc, is_valid_mnc

DAY = 86_400
HOUR = 3_600
DEFAULT_DELAY = 3 * DAY
DEFAULT_CHECKIN_INTERVAL = DAY
DEFAULT_ACTIVATION_MESSAGE = "Your device has been activated."
DEFAULT_RELEASE_MESSAGE = "Your device can now be used."
DEFAULT_HOLD_MESSAGE = (
    "This device has been temporarily blocked while Xiaomi investigates its distribution. "
    "Please contact the retailer directly for additional information."
)
DEFAULT_REGION_LOCK_MESSAGE = (
    "This device was made for another sales region and cannot be activated with this SIM card. "
    "Please contact the retailer directly for additional information."
)
DEFAULT_LOCK_NOTICE = (
    "This device is due to be locked. Please contact the retailer directly for additional "
    "information."
)
DEFAULT_LOCK_REMINDER = (
    "This device will be locked at its next contact with the activation server. Please contact "
    "the retailer directly for additional information."
)


class SimData(StrEnum):
    """Which network of a SIM counts: its home operator (from the IMSI) or the one it is on."""

    HOME = "home"
    SERVING = "serving"


class DualSimRule(StrEnum):
    """How the slots of a dual-SIM phone combine."""

    ANY = "any"  # one embargoed SIM in any slot flags the phone
    ALL = "all"  # every occupied slot must be embargoed
    FIRST = "first"  # only the lowest occupied slot counts


class RegionRule(StrEnum):
    """What a market's region lock demands."""

    FIRST_SIM = "first_sim"  # the first SIM the phone activates with is from the home region


class Reason(StrEnum):
    """Machine-readable reason codes the verdict carries."""

    ACTIVATION_OK = "ACTIVATION_OK"
    EMBARGOED_TERRITORY = "EMBARGOED_TERRITORY"
    REGION_LOCKED = "REGION_LOCKED"
    INVESTIGATION_HOLD = "INVESTIGATION_HOLD"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Network:
    """A whole country (``mnc is None``) or one operator."""

    mcc: str
    mnc: str | None = None

    @classmethod
    def parse(cls, text: str) -> Network:
        mcc, sep, mnc = text.partition("-")
        if not is_valid_mcc(mcc) or (sep and not is_valid_mnc(mnc)):
            raise ValueError(
                f"{text!r} is neither an MCC (e.g. '368') nor an MCC-MNC (e.g. '250-60')"
            )
        return cls(mcc, mnc if sep else None)

    def covers(self, other: Network) -> bool:
        return self.mcc == other.mcc and (self.mnc is None or self.mnc == other.mnc)

    def __str__(self) -> str:
        return self.mcc if self.mnc is None else f"{self.mcc}-{self.mnc}"


@dataclass(frozen=True)
class Territory:
    name: str
    networks: tuple[Network, ...]


@dataclass(frozen=True)
class MatchRule:
    sim_data: tuple[SimData, ...] = (SimData.HOME,)
    dual_sim: DualSimRule = DualSimRule.ANY


@dataclass(frozen=True)
class Enforcement:
    """When a flag becomes a lock, and how often phones come back to hear it.

    Attributes:
        delay: seconds from the first sight of an embargo flag to the lock (0: at once).
        checkin_interval: seconds between check-ins that every verdict asks for.
        sim_swap_lifts_lock: False (the default) makes a flag from a SIM the phone once
            carried sticky; True judges only the SIMs in the phone now, so swapping in a SIM
            from elsewhere lifts a lock that came from the SIM alone (the reported workaround).
        activation_territory_sticks: True (the default) flags a phone for the SIMs of its
            first activation for good; False judges SIMs only as the phone reports them, so
            together with ``sim_swap_lifts_lock`` a SIM swap lifts every embargo lock.
    """

    delay: int = DEFAULT_DELAY
    checkin_interval: int = DEFAULT_CHECKIN_INTERVAL
    sim_swap_lifts_lock: bool = False
    activation_territory_sticks: bool = True


@dataclass(frozen=True)
class OfflineRule:
    """Knox-style: the phone locks itself after ``lock_after`` seconds without a valid verdict."""

    lock_after: int
    warn_before: int


@dataclass(frozen=True)
class LockScreen:
    """Contact details every verdict carries for the lock screen (protocol 2)."""

    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class LockWarningRule:
    """Warn ahead of a delayed embargo lock (protocol 2), Knox Guard's overdue notice.

    A notice the user may dismiss ``notice_before`` seconds before the lock, then a reminder
    that stays from ``reminder_before`` seconds before it until the lock or a release.
    """

    notice_before: int
    reminder_before: int
    notice: str = DEFAULT_LOCK_NOTICE
    reminder: str = DEFAULT_LOCK_REMINDER


@dataclass(frozen=True)
class RegionLock:
    """Per firmware market, what the first SIM must be; markets not listed are not checked."""

    markets: tuple[tuple[str, RegionRule], ...]
    message: str = DEFAULT_REGION_LOCK_MESSAGE

    def rule_for(self, market: str) -> RegionRule | None:
        return dict(self.markets).get(market)


@dataclass(frozen=True)
class Policy:
    version: str
    lock_message: str
    territories: tuple[Territory, ...]
    match: MatchRule = MatchRule()
    activation_message: str = DEFAULT_ACTIVATION_MESSAGE
    release_message: str = DEFAULT_RELEASE_MESSAGE
    hold_message: str = DEFAULT_HOLD_MESSAGE
    enforcement: Enforcement = field(default_factory=Enforcement)
    offline: OfflineRule | None = None
    region_lock: RegionLock | None = None
    lock_screen: LockScreen | None = None
    lock_warning: LockWarningRule | None = None

    def territory_of(self, network: Network) -> Territory | None:
        # Overlaps are refused at load time, so at most one territory covers a network.
        for territory in self.territories:
            if any(entry.covers(network) for entry in territory.networks):
                return territory
        return None
