"""Integration tests of health, metrics and structured logs."""
