"""Fetching a merchant's image from a URL without letting the URL reach our own network.

A URL is a request we make on the merchant's behalf from inside the deployment, so every
hop is checked before we connect (SSRF): http or https only, the host resolved here and
every address it resolves to public (not private, loopback, link-local, multicast, reserved
or unspecified, IPv4-mapped forms included), and the connection made to the address we
checked, not to a second resolution of the name (DNS rebinding). Redirects are followed by
hand, so each one is checked the same way. The body is capped in bytes and in time, and must
say it is an image; the intake then checks the bytes themselves as for an upload.

IMAGE_FETCH_ALLOWED_NETWORKS lists networks exempt from the address check (an in-house image
server on a private address); it is empty by default.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from django.conf import settings

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL or its answer will not do; trying again will not help."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FetchUnavailable(Exception):
    """The server could not be reached or failed (5xx, 429); worth another try later."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Target:
    url: httpx.URL  # with the checked address as host
    host: str  # the name, for the Host header and TLS
    host_header: str


Networks = list[str] | None


def check_url(url: str, *, allowed_networks: Networks = None) -> httpx.URL:
    """The syntax checks that need no network: scheme, host, and an address given literally.
    ``allowed_networks`` (CIDRs) defaults to IMAGE_FETCH_ALLOWED_NETWORKS."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise FetchRefused("This is not a valid URL.") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("Only http and https URLs can be fetched.")
    if not parsed.host:
        raise FetchRefused("The URL has no host.")
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        return parsed
    _check_address(literal, parsed.host, allowed_networks)
    return parsed


def fetch_image(url: str) -> bytes:
    """The image's bytes; raises FetchRefused or FetchUnavailable."""
    limit = settings.IMAGE_FETCH_MAX_BYTES
    deadline = time.monotonic() + settings.IMAGE_FETCH_TIMEOUT_SECONDS
    for _ in range(settings.IMAGE_FETCH_MAX_REDIRECTS + 1):
        target = resolve_checked(check_url(url))
        remaining = max(deadline - time.monotonic(), 0.1)
        # trust_env=False: a proxy from the environment would make its own connection to the
        # name, bypassing the address we checked.
        with httpx.Client(
            timeout=httpx.Timeout(remaining), follow_redirects=False, trust_env=False
        ) as client:
            request = client.build_request(
                "GET",
                target.url,
                headers={
                    "Host": target.host_header,
                    "Accept": ", ".join(sorted(IMAGE_TYPES)),
                    # The byte cap counts what arrives; a compressed body could inflate past it.
                    "Accept-Encoding": "identity",
                    "User-Agent": "visual-search-image-fetcher",
                },
                extensions={"sni_hostname": target.host} if target.url.scheme == "https" else {},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchRefused(_too_slow()) from None
            except httpx.HTTPError as exc:
                raise FetchUnavailable(f"Could not connect to {target.host}: {exc}.") from None
            try:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                _check_answer(response, limit)
                return _read_capped(response, limit, deadline)
            finally:
                response.close()
    raise FetchRefused(f"More than {settings.IMAGE_FETCH_MAX_REDIRECTS} redirects.")


def resolve_checked(parsed: httpx.URL, *, allowed_networks: Networks = None) -> Target:
    """Resolve the URL's host, check every address, and give the URL to connect to (the
    checked address as host) with the name for the Host header and TLS."""
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused(f"The host {host} could not be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise FetchRefused(f"The host {host} could not be resolved.")
    # Every address must pass, not only the one we would use: a name that also resolves to
    # an internal address is refused whole.
    for address in addresses:
        _check_address(address, host, allowed_networks)
    netloc = host if parsed.port is None else f"{host}:{parsed.port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if parsed.port is None else f"[{host}]:{parsed.port}"
    return Target(url=parsed.copy_with(host=str(addresses[0])), host=host, host_header=netloc)


def _check_address(address: IPAddress, host: str, allowed_networks: Networks) -> None:
    checked = address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        checked = address.ipv4_mapped
    if allowed_networks is None:
        allowed_networks = settings.IMAGE_FETCH_ALLOWED_NETWORKS
    exempt = [ipaddress.ip_network(network, strict=False) for network in allowed_networks]
    if any(checked in network for network in exempt):
        return
    if not checked.is_global or checked.is_multicast or checked.is_reserved:
        raise FetchRefused(
            f"The host {host} resolves to {address}, an address that is not on the public "
            "internet; only public addresses are reached."
        )


def _check_answer(response: httpx.Response, limit: int) -> None:
    code = response.status_code
    if code == 429 or code >= 500:
        raise FetchUnavailable(f"The image server answered {code}.")
    if code != 200:
        raise FetchRefused(f"The image server answered {code}, not 200.")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise FetchRefused(
            f"The URL answered {content_type or 'no content type'}, not a JPEG, PNG or WebP image."
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchRefused(_too_large(limit))


def _read_capped(response: httpx.Response, limit: int, deadline: float) -> bytes:
    received = bytearray()
    try:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) > limit:
                raise FetchRefused(_too_large(limit))
            # The read timeout bounds one stalled read; a server dripping a byte at a time
            # would pass it forever, so the whole download has its own deadline.
            if time.monotonic() > deadline:
                raise FetchRefused(_too_slow())
    except httpx.TimeoutException:
        raise FetchRefused(_too_slow()) from None
    except httpx.HTTPError as exc:
        raise FetchUnavailable(f"The download broke off: {exc}.") from None
    return bytes(received)


def _too_large(limit: int) -> str:
    return f"The image is larger than the {limit:,} byte limit."


def _too_slow() -> str:
    return f"The download took longer than {settings.IMAGE_FETCH_TIMEOUT_SECONDS} s."
