"""Lineblocs' own settings (payment gateway, keys, currency, dunning, mail), as its admin UI saves
them in its database: the reader, where values come from, their types, a per-process cache."""
