"""The maintenance service of lineblocs-jobs."""
