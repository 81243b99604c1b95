"""The vendor's records in one SQLite file: devices, verdicts, nonces, holds, the audit log,
accounts.

``db`` is the :class:`~server_stub.store.db.Store` (connections, group commit); ``tx`` the reads
and writes inside one transaction (``accounts`` those of accounts, bindings, wrong passwords and
device keys); ``readers`` the read-only connections that see only what is committed, and
``queries`` the store's reads through them; ``schema`` the tables and migrations;
``checkpoint`` the WAL checkpointer; ``lock`` who writes when several processes share the file;
``lane`` the thread that runs the devices' contacts and commits them together.

Imports nothing of the server but ``server_stub.errors``.
"""
