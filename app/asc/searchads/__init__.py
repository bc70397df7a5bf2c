"""The Apple Ads (Search Ads) client, beside the App Store Connect client.

* :mod:`.auth` — credentials, the ES256 client-secret JWT and the cached OAuth access token.
* :mod:`.client` — the :class:`AdsBackend` interface and the Apple Ads Platform API v1
  backend (the default); v5 is an option refused after its sunset (:data:`V5_SUNSET`).
* :mod:`.parsing` — lenient parsing of Apple's shapes into canonical rows (v1 metric names).
"""
