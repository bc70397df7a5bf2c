"""Inbound App Store Connect webhooks: release events in seconds (facts: WEBHOOKS.md)."""
