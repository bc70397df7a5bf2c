"""Webhooks: subscriptions, signed deliveries (Standard Webhooks 1.0) and their history."""
