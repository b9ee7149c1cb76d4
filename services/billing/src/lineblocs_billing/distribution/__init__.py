"""Distribution: the hourly fan-out of bill messages, and the dunning sweep."""
