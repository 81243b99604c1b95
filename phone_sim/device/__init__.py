"""The phone as plain Python: identity, SIM slots, state machine, storage. No UI imports.

The TUI, the scenario runner and tests are drivers of this model.
"""
