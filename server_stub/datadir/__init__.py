"""What lives in the server's data directory, and reading and writing it.

``settings`` (where everything is, what the server answers with), ``vendor_key`` (the Ed25519
verdict key), ``admin_token`` (the operator's bearer token), ``shared`` (files several server
processes read and replace in turns: the shared clock, the policy in force).

The bottom room: imports nothing of the server but ``server_stub.errors``.
"""
