"""Writes, one module per entity: `<entity>_<action>` functions with keyword-only arguments."""
