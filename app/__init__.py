"""Orchard: one normalised JSON API over linked App Store Connect accounts."""

__version__ = "0.1.0"
