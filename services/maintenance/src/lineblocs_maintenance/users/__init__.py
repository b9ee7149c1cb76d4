"""Users who never set a password: who may go, who must stay and why, and the deletion."""
