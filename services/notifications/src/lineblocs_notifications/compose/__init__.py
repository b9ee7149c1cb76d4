"""Composing a mail: Jinja2 templates (HTML and text), money in its currency, the headers."""
