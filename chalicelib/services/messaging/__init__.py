"""Telling the world: the transactional outbox, fan-out, webhooks and their delivery, mail."""
