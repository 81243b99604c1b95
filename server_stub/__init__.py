"""The simulated vendor activation server: FastAPI app, policy, storage, embedded and CLI runners.

It imports the shared wire protocol (``phone_sim.protocol``) and nothing of the phone: an
import-linter contract forbids ``phone_sim.device``, ``phone_sim.client``, ``phone_sim.ui`` and
Textual here. Importing this package imports nothing heavy; import the modules you need.
"""
