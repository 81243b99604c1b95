"""The simulated vendor activation server, in rooms by concern (top to bottom)::

    cli.py     ``vendor-server``: serve, check a policy, operate a running server
    runtime/   running it: embedded on a thread, or several processes on one port
    api/       the HTTP face: app factory, routes, device and operator authentication
    admin/     the operator: hold, release, policy, audit; the admin client and CLI
    engine/    the decisions: context, decision over time, memory, one contact end to end
    policy/    the declarative policy: model, file schema, loader, matching, keeper, packaged files
    store/     the SQLite records: store, transactions, schema, checkpoints, write lock
    datadir/   the data directory: settings, vendor key, admin token, shared files
    errors.py  named errors

A room imports only rooms below it (an import-linter ``layers`` contract in pyproject.toml).
The server imports the shared wire protocol (``phone_sim.protocol``) and TOML reader
(``phone_sim.tomlfile``) and nothing of the phone:
another contract forbids ``phone_sim.device``, ``phone_sim.client``, ``phone_sim.ui`` and Textual.
Importing this package imports nothing heavy; import the modules you need.
"""
