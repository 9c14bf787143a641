"""Catching Schwab's redirect after the browser login: a TLS listener on the app's `https://127.0.0.1…` callback.

Schwab sends the browser to the callback URL registered for the developer app (it must
be https), with `?code=…`. Station listens there itself for the few minutes of a login,
with a self-signed certificate for 127.0.0.1 made at first use and kept under the data
folder (`tls/`); the browser warns about it once, the trader continues, the page says
that Station has the login. Where the port cannot be opened (443 needs rights on Linux
and macOS, or another program has it), the caller falls back to pasting the address.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

CERT_DAYS = 3650
CERT_FILE, KEY_FILE = "callback-cert.pem", "callback-key.pem"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Station</title></head>
<body style="font-family: sans-serif; margin: 3em"><h2>{title}</h2><p>{text}</p></body></html>"""


class CallbackError(RuntimeError):
    """The callback listener cannot run (port taken or not allowed, not a local https URL)."""


def listen_address(callback_url: str) -> tuple[str, int]:
    """(host, port) of a local https callback URL; CallbackError if it is not one Station can listen on."""
    url = urlparse(callback_url)
    if url.scheme != "https":
        raise CallbackError(f"the callback URL {callback_url} is not https (Schwab requires https)")
    host = url.hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        raise CallbackError(f"the callback URL {callback_url} is not on this PC (127.0.0.1)")
    return host, url.port or 443


def certificate(directory: Path) -> tuple[Path, Path]:
    """The listener's self-signed certificate for 127.0.0.1 and localhost (cert, key): made once, then reused."""
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Station login callback (127.0.0.1)")])
    now = dt.datetime.now(dt.timezone.utc)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
             x509.DNSName("localhost")]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class CallbackListener:
    """Listens on the callback URL over TLS until the browser arrives with `?code=…` (or `?error=…`)."""

    def __init__(self, callback_url: str, tls_dir: Path) -> None:
        self.callback_url = callback_url
        self.host, self.port = listen_address(callback_url)
        self.tls_dir = tls_dir
        # (code, None) when the browser arrives with ?code=…, (None, why) when Schwab says ?error=…
        self.arrived: asyncio.Future[tuple[str | None, str | None]] | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen now; CallbackError (saying why) if the port cannot be opened."""
        cert, key = await asyncio.to_thread(certificate, self.tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.arrived = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._arrive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port, ssl_context=context).start()
        except OSError as exc:
            await self.stop()
            raise CallbackError(f"cannot listen on {self.host}:{self.port} for Schwab's redirect "
                                f"({exc.strerror or exc})") from None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _arrive(self, request: web.Request) -> web.Response:
        code, failure = request.query.get("code"), request.query.get("error")
        if not code and not failure:  # a favicon or a stray request: not the redirect
            return web.Response(status=404, text="not found")
        why = request.query.get("error_description") or failure
        if self.arrived is not None and not self.arrived.done():
            self.arrived.set_result((None, why) if failure else (code, None))
        if failure:
            title, text = "Schwab did not authorise Station", html.escape(why)
        else:
            title, text = "Station has your Schwab login", "You can close this tab and go back to Station."
        return web.Response(text=PAGE.format(title=title, text=text), content_type="text/html")
