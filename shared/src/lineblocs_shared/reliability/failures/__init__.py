"""Failures: which errors are retried, retries, dead letters (record, alert, replay)."""
