"""Where Orchard may send a webhook: the SSRF guard.

A receiver URL must be ``https`` and every address its host resolves to must be public
(not private, loopback, link-local, shared, reserved, multicast or unspecified), unless
``ORCHARD_WEBHOOKS_ALLOW_PRIVATE`` is on (tests, local development), which allows ``http``
and any address. The name is resolved again at every delivery and the connection goes to the
address that was checked (the host name stays in ``Host`` and the TLS server name), so a DNS
answer that changes after the check cannot point a delivery at an internal network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

#: ``(host, port) → addresses``; injectable so tests control DNS.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class UnsafeUrl(Exception):
    """A receiver Orchard refuses to send to; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Target:
    """A checked receiver: the URL to request (host replaced by the checked address) and
    what keeps the request addressed to the host name."""

    url: httpx.URL
    host: str
    address: str

    @property
    def headers(self) -> dict[str, str]:
        default = {"http": 80, "https": 443}[self.url.scheme]
        port = self.url.port or default
        name = f"[{self.host}]" if ":" in self.host else self.host
        return {"Host": name if port == default else f"{name}:{port}"}

    @property
    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


def check_url(url: str, *, allow_private: bool) -> tuple[str, int]:
    """The host and port of an acceptable receiver URL (before resolving it)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("invalid_url", "not a valid URL") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl("scheme", "must be an https:// URL")
    if parts.scheme == "http" and not allow_private:
        raise UnsafeUrl("scheme", "must be https:// (http is allowed only for local testing)")
    if not parts.hostname:
        raise UnsafeUrl("invalid_url", "has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(
            "credentials_in_url",
            "must not carry a user name or password (they would be stored and shown in "
            "clear); verify Orchard's signature instead",
        )
    if parts.fragment:
        raise UnsafeUrl("invalid_url", "must not have a #fragment")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_address(address: str, *, allow_private: bool) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise UnsafeUrl("address", f"resolved to {address!r}, not an IP address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        raise UnsafeUrl("address", f"resolves to {ip}, which cannot receive webhooks")
    if not allow_private and not ip.is_global:
        kind = (
            "a loopback"
            if ip.is_loopback
            else "a link-local"
            if ip.is_link_local
            else "a private or reserved"
        )
        raise UnsafeUrl(
            "private_address",
            f"resolves to {ip}, {kind} address: Orchard only sends webhooks to public addresses",
        )


async def resolve(url: str, resolver: Resolver, *, allow_private: bool) -> Target:
    """Check ``url`` and every address its host resolves to now; the first address to use."""
    host, port = check_url(url, allow_private=allow_private)
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except (OSError, UnicodeError):
            raise UnsafeUrl("unresolvable", f"the host {host} does not resolve") from None
    if not addresses:
        raise UnsafeUrl("unresolvable", f"the host {host} does not resolve")
    for address in addresses:
        check_address(address, allow_private=allow_private)
    pinned = httpx.URL(url).copy_with(host=addresses[0].split("%", 1)[0])
    return Target(url=pinned, host=host, address=addresses[0])
