"""Scrutiny recommendations, executive responses and cabinet reports (later work)."""
