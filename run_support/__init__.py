"""Plumbing shared by the entry points: user-facing errors, atomic writes, CLI runner."""
