"""The notifications service of lineblocs-jobs."""
