"""Databento's historical HTTP API on 127.0.0.1 over TLS, for the real `databento.Historical` client.

The client always speaks HTTPS to its gateway, so the double serves TLS with a
throw-away self-signed certificate (`make_certificate`); tests point the client's
trust at it with `REQUESTS_CA_BUNDLE`. Endpoints, as the client calls them (form
posts with HTTP basic auth, the key as user name): `/v0/metadata.get_cost` (a JSON
number of dollars), `/v0/metadata.get_billable_size` (a JSON number of bytes) and
`/v0/timeseries.get_range` (a zstd DBN stream), and the free `GET /v0/metadata.list_datasets`
("Test key"). Errors answer `{"detail": …}`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
import ipaddress
import ssl
from pathlib import Path

import numpy as np
import zstandard
from aiohttp import web

from station.marketdata.databento.write import metadata_bytes

RECORD_BYTES = 48  # a trades record
DOLLARS_PER_GB = 50.0


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class HistoricalDouble:
    """The API over an in-memory set of trade records (`symbols` maps requested symbols to instrument ids)."""

    def __init__(self, key: str, records: np.ndarray, symbols: dict[str, int], *, chunk_delay_s: float = 0.0,
                 available_end_ns: int | None = None) -> None:
        self.key = key
        self.records = records
        self.symbols = symbols
        self.chunk_delay_s = chunk_delay_s
        self.streaming = 0  # get_range answers being sent now
        self.available_end_ns = available_end_ns
        self.calls: list[tuple[str, dict]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, cert: Path, key: Path) -> int:
        app = web.Application()
        app.router.add_get("/v0/metadata.list_datasets", self._datasets)
        app.router.add_post("/v0/metadata.get_cost", self._cost)
        app.router.add_post("/v0/metadata.get_billable_size", self._size)
        app.router.add_post("/v0/timeseries.get_range", self._range)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def gateway(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def purchases(self) -> list[dict]:
        return [form for endpoint, form in self.calls if endpoint == "get_range"]

    # ---- endpoints ------------------------------------------------------------------------------

    async def _datasets(self, request: web.Request) -> web.Response:
        """`GET /metadata.list_datasets`: free; the key is checked as on every call."""
        self.calls.append(("metadata.list_datasets", dict(request.query)))
        self._authorised(request)
        return web.json_response(["GLBX.MDP3", "XNAS.ITCH", "OPRA.PILLAR"])

    def _authorised(self, request: web.Request) -> None:
        user = base64.b64decode(request.headers.get("Authorization", "Basic ").split(" ", 1)[1] or b"").decode()
        if not hmac.compare_digest(user.partition(":")[0].encode(), self.key.encode()):
            raise web.HTTPUnauthorized(text='{"detail": "Authentication failed."}', content_type="application/json")

    async def _cost(self, request: web.Request) -> web.Response:
        form, selected = await self._select(request, "get_cost")
        return web.json_response(round(len(selected) * RECORD_BYTES / 1e9 * DOLLARS_PER_GB, 6))

    async def _size(self, request: web.Request) -> web.Response:
        form, selected = await self._select(request, "get_billable_size")
        return web.json_response(len(selected) * RECORD_BYTES)

    async def _range(self, request: web.Request) -> web.StreamResponse:
        self.streaming += 1
        try:
            return await self._stream_range(request)
        finally:
            self.streaming -= 1

    async def _stream_range(self, request: web.Request) -> web.StreamResponse:
        form, selected = await self._select(request, "get_range")
        symbols = form["symbols"].split(",")
        header = metadata_bytes({s: self.symbols[s] for s in symbols}, _ns(form["start"]), _ns(form["end"]),
                                stype_in=form["stype_in"], dataset=form["dataset"], schema=form["schema"])
        data = zstandard.ZstdCompressor(level=3).compress(header + selected.tobytes())
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        for offset in range(0, len(data), 4096):
            await response.write(data[offset:offset + 4096])
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
        await response.write_eof()
        return response

    async def _select(self, request: web.Request, endpoint: str) -> tuple[dict, np.ndarray]:
        form = dict(await request.post())
        self.calls.append((endpoint, form))
        self._authorised(request)
        start, end = _ns(form["start"]), _ns(form["end"])
        if self.available_end_ns is not None and end > self.available_end_ns:
            raise web.HTTPUnprocessableEntity(
                text='{"detail": "The end of the range is after the available end of the dataset."}',
                content_type="application/json")
        unknown = [s for s in form["symbols"].split(",") if s not in self.symbols]
        if unknown:
            raise web.HTTPUnprocessableEntity(text=f'{{"detail": "Unknown symbols {unknown}."}}',
                                              content_type="application/json")
        ids = [self.symbols[s] for s in form["symbols"].split(",")]
        recv = self.records["ts_recv"].astype(np.int64)
        pick = (recv >= start) & (recv < end) & np.isin(self.records["instrument_id"], ids)
        return form, self.records[pick]


def _ns(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        moment = dt.datetime.fromisoformat(text)
        return int(moment.timestamp()) * 10**9
