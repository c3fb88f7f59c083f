"""The demo data the guidance and scrutiny apps show (``manage.py seed_demo`` calls these)."""
