"""The phone as a Textual app. Screens render the device model; they never decide policy."""
