"""The reports of D23-D27, computed from a handful of read-model documents (pure functions)."""
