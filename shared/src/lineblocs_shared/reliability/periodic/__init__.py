"""Once-per-period jobs on periodiq: declaration, claims, catch-up, the job-run ledger."""
