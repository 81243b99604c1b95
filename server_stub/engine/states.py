"""The names a device's state is shown by (the admin API, the console, scenario checks).

Alone in its module, with no imports: the admin API's models name the states, and the admin
client (which the TUI loads before its first frame) must not load the engine and the policy
with them (``docs/decisions/tui-first-frame-imports.md``). :mod:`.decide` says which applies.
"""

from __future__ import annotations

from typing import Literal

DeviceStateName = Literal["never-seen", "activated", "flagged", "locked", "held", "released"]
