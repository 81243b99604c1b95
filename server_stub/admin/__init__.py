"""The operator's side: what an operator may do and see, and the tools to do it remotely.

Server side: ``ops`` (hold, release, release all), ``accounts`` (clear an account lock, make an
unblock code), ``views`` (the device list, one device, the audit trail), ``policy`` (the policy
in force, and replacing it), ``models`` (the admin API's bodies). Client side: ``client`` (a
typed client of the admin API), ``cli`` and ``account_cli`` (``vendor-server admin``), which
import no server machinery.

May import ``engine``, ``policy``, ``store``, ``datadir``; never ``api`` or ``runtime``.
"""
