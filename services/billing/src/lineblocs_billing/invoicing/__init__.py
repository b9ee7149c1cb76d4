"""Invoicing: the period, the facts an invoice needs, the rules, the draft, and writing it once."""
