"""Credentials of linked App Store Connect accounts, below the domains and the sync engine.

Decrypting stored keys (``crypto``), building Apple clients that share one HTTP client and
cached tokens (``clients``), verifying a key and probing what it may read (``verification``),
and the credential status and capabilities every layer above reads and the engine records
(``states``), plus the workspace-scoped account lookups (``lookup``).
"""
