"""Observability: structured logs, metrics, health endpoints, Sentry, redaction of secrets."""
