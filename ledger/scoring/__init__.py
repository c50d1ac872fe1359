"""The scoring process (SPEC.md sections 10-12): organizations, incidents, rules, rounds,
panel decisions, and the deterministic replay that recomputes every ranking.

Everything here is pure: no files, no SQLite, no clock.
"""
