"""Intake: validates and normalises DMS input, keeps one file per vehicle, publishes events."""
