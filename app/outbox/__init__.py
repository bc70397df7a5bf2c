"""The transactional outbox: events for webhooks, written in the transaction of the change.

A floor of its own just above the models, so every floor that changes something a consumer
may subscribe to (credentials, the sync engine, resources, the domains) can write its event
in the same transaction as the change: the event commits with the change or not at all. The
webhooks domain delivers what lands here.
"""
