"""The periodic sweeps: which mails are due now, found in the site's tables (one module each)."""
