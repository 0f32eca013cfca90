"""How a console is reached: the proxy the environment names, and the certificates it is trusted with. Decided
here once, for `open_console` (which checks them before any request) and the HTTP console alike."""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from clinesync.consoles.base import ConsoleError


def environment_proxy(url: str) -> str | None:
    """The proxy that HTTPS_PROXY, HTTP_PROXY or ALL_PROXY name for `url`, unless NO_PROXY exempts its host (as
    the standard library reads them; a value without a scheme is an http:// proxy)."""
    if sys.platform not in ("darwin", "win32") and not any(
        name.lower().endswith("_proxy") for name in os.environ
    ):
        return None  # no proxy can be configured: urllib.request (10 ms to import) would find none either
    import urllib.request

    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(urlsplit(url).hostname or ""):
        return None
    proxy = proxies.get(urlsplit(url).scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def reached_over_tls(url: str, proxy: str | None) -> bool:
    """Whether reaching `url` (through `proxy`, if any) takes TLS: to the console, or to its proxy."""
    return any(each.startswith("https://") for each in (url, proxy or ""))


def tls_context(url: str, proxy: str | None, environ: Mapping[str, str] = os.environ) -> ssl.SSLContext:
    """One TLS context for every connection (loading a CA bundle costs ~50 ms of CPU): the bundle SSL_CERT_FILE
    names, else SSL_CERT_DIR's, else certifi's. A bundle that is missing or unreadable is a clear error. A
    console reached without TLS (http://, and no https:// proxy) gets a context that trusts nothing: it is
    never used, and would refuse any certificate if it were."""
    bundle = environ.get("SSL_CERT_FILE")
    if bundle and not os.path.isfile(bundle):
        raise ConsoleError(f"SSL_CERT_FILE names {bundle}, which is not a file: point it at your CA bundle")
    if not reached_over_tls(url, proxy):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if bundle:
            return ssl.create_default_context(cafile=bundle)
        if environ.get("SSL_CERT_DIR"):
            return ssl.create_default_context(capath=environ["SSL_CERT_DIR"])
    except (ssl.SSLError, OSError, ValueError):
        named = f"SSL_CERT_FILE names {bundle}" if bundle else f"SSL_CERT_DIR names {environ['SSL_CERT_DIR']}"
        raise ConsoleError(f"{named}, which holds no readable certificate") from None
    import certifi  # Mozilla's CAs, as browsers trust them, where the system may have none

    return ssl.create_default_context(cafile=certifi.where())
