"""The billing service of lineblocs-jobs."""
