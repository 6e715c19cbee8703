"""Reliability you can rerun: a known workload, one fault in the middle, a checker (issue 18)."""
