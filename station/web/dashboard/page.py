"""`GET /` and `GET /dashboard/{file}`: the dashboard's page and its own files, nothing fetched from elsewhere.

The files ship with Station (`resources/dashboard/`, the package `station.resources`), the
Socket.IO client among them (vendored from the npm registry with its licence), so the page
works offline and on a phone on the LAN or through the tunnel. They are read once at start
and answered from memory. The page asks for the API token itself; the Host/Origin guard in
`web/guard.py` covers `/` and `/dashboard…` as it covers `/api`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from station.paths import resources_dir

TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
         ".png": "image/png", ".LICENSE": "text/plain"}
# the page runs only its own scripts and talks only to this Station (REST and Socket.IO on the same port)
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self' ws: wss:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


def dashboard_dir() -> Path:
    return resources_dir() / "dashboard"


def load_files(folder: Path) -> dict[str, tuple[bytes, str]]:
    """Every shippable file below `folder`: relative path → (bytes, content type)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        kind = TYPES.get(path.suffix)
        if path.is_file() and kind is not None:
            files[path.relative_to(folder).as_posix()] = (path.read_bytes(), kind)
    return files


class DashboardPage:
    """Installs the page's routes; the files are read at construction (a missing one fails at start-up)."""

    def __init__(self, app: web.Application, folder: Path | None = None) -> None:
        self.files = load_files(folder or dashboard_dir())
        if "index.html" not in self.files:
            raise FileNotFoundError(f"the dashboard's index.html is missing from {folder or dashboard_dir()}")
        app.router.add_get("/", self.index)
        app.router.add_get("/dashboard", self.index)
        app.router.add_get("/dashboard/{name:.+}", self.file)

    def _answer(self, name: str) -> web.Response:
        body, kind = self.files[name]
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                   "Content-Security-Policy": POLICY, "X-Frame-Options": "DENY"}
        return web.Response(body=body, content_type=kind, charset="utf-8" if kind.startswith("text") else None,
                            headers=headers)

    async def index(self, request: web.Request) -> web.Response:
        return self._answer("index.html")

    async def file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files:
            raise web.HTTPNotFound()
        return self._answer(name)
