"""The contact service: queues due contacts per dealer and records what the agents report."""
