"""Running the server: on a thread in this process, or as several processes on one port.

``embedded`` serves the app on a background thread (the phone's ``make run``, scenarios, tests);
``processes`` starts and stops ``serve --workers N``; ``usage`` reads what a process used;
``pipes`` is what both command lines do when their reader goes away.

May import every room below it (``api`` and down). Nothing in the server imports it but
``server_stub.cli``.
"""
