"""The HTTP face of the server: the app factory, its routes, and what guards them.

``app.create_app`` builds the FastAPI app; ``routes/`` holds one module per concern (device
contacts, health, the admin API); ``deps`` authenticates devices and ``auth`` the operator, as
FastAPI dependencies, so no route sees an unauthenticated request; ``limits`` caps bodies;
``http_errors`` turns every failure into the protocol's JSON error.

May import ``admin``, ``engine``, ``policy``, ``store``, ``datadir``. Nothing below imports it.
"""
