"""Fleets of headless phones against one vendor server (``phone-sim fleet``, docs/FLEET.md).

The same device model as the TUI and the scenarios, without a UI and without per-device files:
:mod:`.identities` makes (and caches) device identities, each a line :mod:`.kits` reads
back, :mod:`.mix` says which SIM each device carries, :mod:`.server` runs or reaches the vendor
server, :mod:`.runner` drives the phones and :mod:`.report` measures them.
"""
