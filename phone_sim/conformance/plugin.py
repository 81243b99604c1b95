"""pytest plugin (entry point ``phone_sim_conformance``): the kit's options and its fixture.

A server project runs the kit in its own CI with::

    pytest --pyargs phone_sim.conformance --conformance-server URL \\
        --conformance-vendor-key vendor.pub --conformance-factory factory/ \\
        [--conformance-features conformance.toml]

(each option also reads an environment variable, ``PHONE_SIM_CONFORMANCE_SERVER`` and so on).
The module :mod:`phone_sim.conformance.test_conformance` is one test per case; the fixture
``conformance_kit`` is the kit, opened once per session. Nothing heavy is imported until a test
asks for the fixture, so loading the plugin costs nothing in other test runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .context import Kit

#: option -> environment variable it falls back on
OPTIONS = {
    "server": "PHONE_SIM_CONFORMANCE_SERVER",
    "vendor-key": "PHONE_SIM_CONFORMANCE_VENDOR_KEY",
    "factory": "PHONE_SIM_CONFORMANCE_FACTORY",
    "features": "PHONE_SIM_CONFORMANCE_FEATURES",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phone-sim conformance", "the conformance kit (docs/CONFORMANCE.md)")
    for name, variable in OPTIONS.items():
        group.addoption(
            f"--conformance-{name}",
            default=os.environ.get(variable),
            help=f"the kit's --{name} (default ${variable})",
        )
    group.addoption(
        "--conformance-device",
        action="append",
        default=[
            d for d in os.environ.get("PHONE_SIM_CONFORMANCE_DEVICES", "").split(os.pathsep) if d
        ],
        help="an identity from `phone-sim factory issue` (repeat; default $PHONE_SIM_CONFORMANCE_DEVICES)",
    )


@pytest.fixture(scope="session")
def conformance_kit(request: pytest.FixtureRequest) -> Kit:
    """The kit pointed at ``--conformance-server``; every test is skipped without one."""
    from .context import Kit, KitConfig
    from .errors import KitSetupError

    option = request.config.getoption
    server, key = option("conformance_server"), option("conformance_vendor_key")
    if not server or not key:
        pytest.skip("no server: give --conformance-server URL and --conformance-vendor-key PEM")
    factory, features = option("conformance_factory"), option("conformance_features")
    config = KitConfig(
        server,
        Path(key),
        Path(factory) if factory else None,
        [Path(d) for d in option("conformance_device")],
        Path(features) if features else None,
    )
    try:
        return Kit.open(config)
    except KitSetupError as exc:
        raise pytest.UsageError(f"phone-sim conformance: {exc}") from None
