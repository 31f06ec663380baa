"""Sending one webhook request: the signature, the address check and a bounded HTTP POST.
Pure: imports no app code, so the delivery service and the tests use it alike.

The host is resolved once, every address it resolves to is checked, and the connection goes
to the checked address (the Host header and TLS name stay the URL's): a DNS answer that
changes between the check and the connect (rebinding) cannot reach a private address.
Redirects are never followed (http.client does not), and at most `max_bytes` of the answer
are read."""

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "CustomerBackOffice-Webhooks/1"


def signature(secret, timestamp, body):
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, the X-Signature header."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class RefusedAddress(Exception):
    """The URL may not be called: its scheme, or an address it resolves to."""


def is_public(address):
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url, *, allow_private):
    """Refuse what no setting allows: a scheme other than https (or http when private
    addresses are allowed, as in development) and a URL without a host."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise RefusedAddress("Only https:// URLs are allowed." if not allow_private else "Use http(s)://.")
    if not parts.hostname:
        raise RefusedAddress("The URL has no host.")
    return parts


def resolve(host, port, *, allow_private):
    """The address to connect to; RefusedAddress if any address of the host is not public
    (a host that also resolves to an internal address is refused as a whole)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ConnectionError(f"Cannot resolve {host}: {error.strerror}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise RefusedAddress(f"{host} resolves to a private or local address ({refused[0]}).")
    return infos[0][0], infos[0][4]


class PinnedConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, not to whatever the host resolves to now."""

    def __init__(self, host, port, *, family, sockaddr, timeout, tls):
        super().__init__(host, port, timeout=timeout)
        self.family, self.sockaddr, self.tls = family, sockaddr, tls

    def connect(self):
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.sockaddr)
            if self.tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


@dataclass
class Response:
    status: int | None
    excerpt: bytes
    duration_ms: int
    error: str = ""
    refused: bool = False


def post(url, body, headers, *, timeout, max_bytes, allow_private):
    """POST `body` to `url`; never raises for what the receiver or the network does."""
    started = time.monotonic()

    def elapsed():
        return int((time.monotonic() - started) * 1000)

    connection = None
    try:
        parts = check_url(url, allow_private=allow_private)
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        family, sockaddr = resolve(parts.hostname, port, allow_private=allow_private)
        connection = PinnedConnection(
            parts.hostname, port, family=family, sockaddr=sockaddr, timeout=timeout, tls=tls
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        answer = connection.getresponse()
        excerpt = answer.read(max_bytes)
        return Response(answer.status, excerpt, elapsed())
    except RefusedAddress as error:
        return Response(None, b"", elapsed(), error=str(error), refused=True)
    except TimeoutError:
        return Response(None, b"", elapsed(), error=f"No answer within {timeout:g} s.")
    except (OSError, http.client.HTTPException) as error:
        return Response(None, b"", elapsed(), error=f"{type(error).__name__}: {error}"[:300])
    finally:
        if connection is not None:
            connection.close()
