"""The phone's vendor client: signs requests, reads answers with a bound, verifies signatures."""
