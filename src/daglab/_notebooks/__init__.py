"""Paired marimo notebooks: rendering the templates, and the views their cells show."""
