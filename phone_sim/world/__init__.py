"""A world: one vendor and any number of phones on one time (docs/decisions/one-world-one-time.md).

``world`` is the world and its one stepping loop; ``vendor`` the vendor (embedded in this
process, or at a URL), which holds the world's time; ``clocks`` where that time lives and how it
is moved; ``phones`` one phone of the world (device model, data directory, client); ``launch``
a world from the command line's options; ``errors`` what goes wrong opening one. Pure Python:
no Textual. The TUI, the scenario runner, the pytest plugin and the fleet drive it.

Import what you need from its modules: importing the package loads nothing (a fleet's phone
processes read ``clocks`` and must not load the server's stack).
"""
