"""Background work: RQ jobs, the outbox relay, and the periodic maintenance schedule."""
