"""The shipped scenario library: one TOML file per scenario (data only; see docs/SCENARIOS.md)."""
