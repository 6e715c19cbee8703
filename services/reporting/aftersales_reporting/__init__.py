"""The reporting service: per-dealer monthly follow-up figures (D23, D24)."""
