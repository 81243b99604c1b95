"""The vendor's decisions: what a device gets at each contact, and remembering why.

``context`` is what every decision needs (settings, clock, store, policy, keys); ``decide``
is the decision over time (delays, holds, releases); ``memory`` what the server remembers of
each device; ``contacts`` one activation, check-in or account request end to end (decide,
record, sign) in one transaction; ``accounts`` the account lock and its password
(``passwords``: scrypt hashes).

May import ``policy``, ``store``, ``datadir`` and the wire protocol.
"""
