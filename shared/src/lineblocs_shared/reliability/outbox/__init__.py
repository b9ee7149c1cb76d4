"""Transactional outbox (write with the change, relay after commit) and consumer de-duplication."""
