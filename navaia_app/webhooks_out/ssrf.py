"""Outgoing requests must not reach the inside of the network (SSRF): the receiver's name is resolved and
every address it resolves to must be public, unless OUTGOING_WEBHOOKS_ALLOW_PRIVATE is set. Checked when
an endpoint is registered and again at each delivery, where the request then goes to the very address
that was checked (so a name that resolves differently a moment later, DNS rebinding, gains nothing)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from navaia_app.core.errors import ValidationFailed
from navaia_app.core.settings import get_settings


class AddressRefused(ValidationFailed):
    """The URL is malformed, does not resolve, or resolves to an address we do not call."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the Host header and the TLS name)
    port: int
    address: str  # the checked IP address the request is sent to


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in ((ip.is_loopback, "a loopback"), (ip.is_link_local, "a link-local"),
                       (ip.is_private, "a private"), (ip.is_multicast, "a multicast"),
                       (ip.is_reserved, "a reserved"), (ip.is_unspecified, "an unspecified"),
                       (not ip.is_global, "a non-public")):
        if test:
            return what
    return None


def parse_url(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"The URL is not valid ({exc}).", field="url") from exc
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("The URL must start with https:// (or http://).", field="url")
    if not parts.hostname:
        raise AddressRefused("The URL has no host name.", field="url")
    if parts.username or parts.password:
        raise AddressRefused("The URL must not carry a user name or password.", field="url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """The address to send to, after checking every address the host resolves to."""
    scheme, host, port = parse_url(url)
    if allow_private is None:
        allow_private = get_settings().outgoing_webhooks_allow_private
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"The host name {host!r} does not resolve.", field="url") from exc
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not addresses:
        raise AddressRefused(f"The host name {host!r} does not resolve.", field="url")
    if not allow_private:
        for address in addresses:
            why = _refusal(ipaddress.ip_address(address))
            if why:
                raise AddressRefused(
                    f"{host} resolves to {why} address ({address}); outgoing webhooks only go to public "
                    "addresses unless OUTGOING_WEBHOOKS_ALLOW_PRIVATE is set.", field="url")
    return Target(scheme=scheme, host=host, port=port, address=addresses[0])
