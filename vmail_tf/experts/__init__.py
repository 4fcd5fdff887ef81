"""Experts that act on true states (numpy only)."""
