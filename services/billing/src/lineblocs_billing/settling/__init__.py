"""Settling an invoiced period exactly once: decide, attempt at the gateway, record paid or
declined; attempts, locks, gateways and the dunning ladder."""
