"""The server-rendered web form (Jinja2 templates, a little CSS and JS for streaming)."""
