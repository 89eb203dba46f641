"""Textual widgets of the cockpit (the only package that imports Textual, with app.py)."""
