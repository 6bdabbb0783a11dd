"""Which URLs and addresses the product may send to on a tenant's word. Pure, apart from
name resolution.

A URL a workspace gives (its rule webhook endpoint) must not turn the product into a
client inside the deployment's network: only `https`, and only to public addresses,
unless the deployment says otherwise (`REVSYNC_OUTBOUND_ALLOW_HTTP`,
`REVSYNC_OUTBOUND_ALLOW_PRIVATE`, for development or a platform on the same network).
Link-local (the cloud metadata service at 169.254.169.254), multicast, unspecified and
reserved addresses are never a platform's endpoint and stay refused either way.

Names are resolved with the system resolver, which also reads the odd spellings of IPv4
(`2130706433`, `0x7f000001`, `127.1`) as the address they mean; what is checked is always
the address that comes back, never the spelling.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from revsync.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Kind = Literal["public", "private", "never"]
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the last 32 bits


class Refused(ValueError):
    """The URL or the address it leads to is not allowed; the message is fit to show the
    workspace (it names the host the workspace gave, nothing found on the network)."""


class Unresolved(OSError):
    """The name has no address now."""


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    allow_http: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(settings.outbound_allow_private, settings.outbound_allow_http)


@dataclass(frozen=True)
class Destination:
    """A URL the policy accepts, in the parts a request needs."""

    scheme: str  # http | https
    host: str  # a name or an address, without brackets
    port: int
    netloc: str  # for the Host header: as written, brackets and port included
    target: str  # path and query


def destination(policy: Policy, url: str) -> Destination:
    """The URL's parts; `Refused` when its form is not allowed (no network is used)."""
    schemes = ("http", "https") if policy.allow_http else ("https",)
    shape = f"is an {'http(s)' if policy.allow_http else 'https'} URL with a host"
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise Refused(f"{shape}, in ASCII without spaces (an international name in its "
                      "xn-- form)")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise Refused(f"{shape} and a port from 1 to 65535, not {url!r}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise Refused(f"{shape}, not {url!r}")
    if parts.username is not None or parts.password is not None:
        raise Refused(f"{shape} and no user or password in it")
    default = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port or default, parts.netloc, target)


def kind(address: IPAddress) -> Kind:
    """public: on the internet; private: inside some network (loopback, RFC 1918,
    unique-local, CGNAT, documentation ranges); never: not an endpoint at all."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return kind(inner)
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return "never"
    if isinstance(address, ipaddress.IPv4Address) and address.is_reserved:
        return "never"  # 240/4 and the broadcast address
    # `is_global` is false for RFC 1918, loopback, unique-local, documentation ranges and
    # the carrier-grade NAT space 100.64/10.
    return "public" if address.is_global else "private"


def allowed(policy: Policy, address: IPAddress) -> bool:
    found = kind(address)
    return found == "public" or (found == "private" and policy.allow_private)


def checked_addresses(policy: Policy, host: str, port: int, seconds: float
                      ) -> list[IPAddress]:
    """Every address `host` resolves to, each allowed; `Refused` when any one is not (a
    name answering with a public and a private address would let the connection pick
    the private one), `Unresolved` when there is none, TimeoutError after `seconds`."""
    addresses = resolve(host, port, seconds)
    refused = [a for a in addresses if not allowed(policy, a)]
    if refused:
        where = kind(refused[0])
        reason = ("an address revsync never sends to" if where == "never" else
                  "a private address (REVSYNC_OUTBOUND_ALLOW_PRIVATE allows these)")
        # The address itself is not told: it would map the deployment's network.
        raise Refused(f"leads to {reason}, which is not allowed (host {host})")
    return addresses


def check(policy: Policy, url: str, seconds: float) -> Destination:
    """What a workspace's URL is checked with when it is saved: its form, and the addresses
    its host has now. A name without an address yet is accepted (its record may come
    later); every send resolves and checks it again."""
    found = destination(policy, url)
    with contextlib.suppress(Unresolved, TimeoutError):
        checked_addresses(policy, found.host, found.port, seconds)
    return found


def resolve(host: str, port: int, seconds: float) -> list[IPAddress]:
    """The system resolver's addresses for `host`, waiting at most `seconds`: it has no
    timeout of its own, so it runs in a thread that is left behind when it is slow."""
    answers: list[list[IPAddress]] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            infos = []
        answers.append([ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
                        for info in infos])

    worker = threading.Thread(target=look_up, name="egress resolve", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if not answers:
        raise TimeoutError(f"resolving {host} took longer than {seconds:g} s")
    if not answers[0]:
        raise Unresolved(f"{host} has no address")
    return list(dict.fromkeys(answers[0]))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, 6to4, NAT64), else None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
