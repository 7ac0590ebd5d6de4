"""The client's address behind trusted reverse proxies (``ZHIJIAO_TRUSTED_PROXIES``).

``X-Forwarded-For`` is honoured only when the connection comes from a configured proxy, and
then only as far back as the chain of trusted hops goes: the rightmost address that is not a
trusted proxy is the client (a client can put anything at the left end of the header, but it
cannot forge what the proxies append). Logins are limited per this address (security.auth).
"""

from __future__ import annotations

import functools
import ipaddress

from zhijiao.config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; an entry that is no address or network is refused."""
    out = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"ZHIJIAO_TRUSTED_PROXIES: 无法识别的地址或网段 {part!r}") from exc
    return tuple(out)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr, networks: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: str | None = None) -> str | None:
    """The client's address: ``peer`` unless it is a trusted proxy that forwarded the request."""
    networks = parse_networks(get_settings().trusted_proxies if trusted is None else trusted)
    if not peer or not networks or not forwarded_for:
        return peer
    current = peer
    if not _trusted(_address(peer), networks):
        return peer
    for hop in reversed(forwarded_for.split(",")[-16:]):
        addr = _address(hop)
        if addr is None:
            return current  # garbage in the header: the last trusted hop is all we know
        current = str(addr)
        if not _trusted(addr, networks):
            return current
    return current
