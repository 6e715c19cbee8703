"""Wiring that all five services share (ARCHITECTURE: "one small runtime helper package").

Settings, the injectable clock, JSON logs without personal data, the Kafka broker with
commit-after-effect and dead-lettering, MongoDB, and health endpoints. No domain logic lives here.
"""
