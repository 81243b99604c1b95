"""The conformance kit: numbered cases from docs/PROTOCOL.md, run against any activation server.

It tests a server from outside, over HTTP, as a phone and an operator would: it imports the
shared protocol implementation (``phone_sim.protocol``) to check signatures and parse verdicts
and the TOML reader (``phone_sim.tomlfile``), and never the server, the world or the phone (an
import-linter contract keeps it so). Each case's expected answer is written from the spec.

Rooms::

    cases.py             every case, in order (the registry ``CASES``)
    cases_*.py           the cases by concern: exchanges, body, signature, identity, policy
    registry.py          what a case is; the negative (twin, then one rule broken) and
                         positive builders; the table docs/CONFORMANCE.md shows
    context.py           the Kit the cases drive: server, pinned key, devices, time, record
    drafts.py            a request before it is sent, and the one thing a case breaks
    signer.py            RFC 9421 request signatures with every part exposed
    certificates.py      device certificates of section 3's profile, and one-rule breaks
    identities.py        devices the server trusts: a factory directory, or issued identities
    answers.py           what the spec requires of a verdict, a time answer, an error
    clock.py             the server's time, from its signed answer
    wire.py              HTTP exchanges byte for byte, recorded
    features.py          the server's features file (optional features, a known policy)
    runner.py            PASS, FAIL or SKIP per case, with a reason
    reports.py           JUnit, JSON and a redacted transcript
    cli.py               ``phone-sim conformance``
    plugin.py            the pytest plugin: options and the ``conformance_kit`` fixture
    test_conformance.py  ``pytest --pyargs phone_sim.conformance``: one test per case
    errors.py            named errors

docs/CONFORMANCE.md says how to run it and what each case checks.
"""
