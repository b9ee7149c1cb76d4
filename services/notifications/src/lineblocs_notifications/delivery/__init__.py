"""Delivering a rendered e-mail: SMTP, Mailgun's HTTP API, or `.eml` files in a folder."""
