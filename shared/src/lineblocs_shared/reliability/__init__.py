"""Reliability core every service stands on: error taxonomy, retries and dead letters, alerting."""
