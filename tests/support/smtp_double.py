"""A loopback SMTP server speaking enough of RFC 5321 (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA) for tests."""

from __future__ import annotations

import asyncio
import base64


class SmtpDouble:
    """Accepts messages and keeps them (with the credentials used) in `messages`."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> "SmtpDouble":
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        current: dict = {"to": []}
        say("220 double ESMTP")
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    writer.write(b"250-double\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                elif verb == "AUTH":
                    parts = line.split()
                    if parts[1].upper() == "PLAIN":
                        _, user, password = base64.b64decode(parts[2]).decode().split("\0")
                    else:
                        say("334 VXNlcm5hbWU6")
                        user = base64.b64decode((await reader.readline()).strip()).decode()
                        say("334 UGFzc3dvcmQ6")
                        password = base64.b64decode((await reader.readline()).strip()).decode()
                    current["auth"] = (user, password)
                    say("235 ok")
                elif verb == "MAIL":
                    current["from"] = line[10:].strip("<>")
                    say("250 ok")
                elif verb == "RCPT":
                    current["to"].append(line[8:].strip("<>"))
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    data = []
                    while (chunk := (await reader.readline()).decode()) not in (".\r\n", ""):
                        data.append(chunk)
                    current["data"] = "".join(data)
                    self.messages.append(current)
                    current = {"to": [], "auth": current.get("auth")}
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("250 ok")
                await writer.drain()
        finally:
            writer.close()
