"""Recording relocation: finalized recordings moved from the media servers to object storage."""
