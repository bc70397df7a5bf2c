"""App Store Connect webhooks in the sandbox (facts: ``WEBHOOKS.md`` §0–§7).

- :mod:`.events` — event kinds, payload documents, timestamps, the ``x-apple-signature``.
- :mod:`.model` — webhook, event, delivery and attempt records; :class:`WebhookOptions` (knobs).
- :mod:`.scanner` — the catalogue changes between two instants (versions, builds, feedback).
- :mod:`.hub` — ``webhooks(state)``: registry, event recording, redelivery, ping, sending.
- :mod:`.delivery` — senders (httpx, in-process ASGI), signing, retries, background loop.
- :mod:`.bodies` / :mod:`.routes` — the ``/v1`` endpoints; :mod:`.admin` — ``/sandbox/...``.
"""
