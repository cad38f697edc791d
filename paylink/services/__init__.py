"""Writes. One module per entity; functions are named `<entity>_<action>` with keyword-only arguments."""
