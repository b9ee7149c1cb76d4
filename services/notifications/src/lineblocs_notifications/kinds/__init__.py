"""The e-mails the service sends: what each is called, muted by, and made from."""
