"""Pure domain rules: no boto, no HTTP. Unit-testable without AWS."""
