"""The passphrase at first start of `station --headless`: created, printed once to stdout, never logged."""

import json
import re
import signal
import urllib.request

from support.launch import free_port
from support.webhook import DIALECT_1, Headless, journal


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}/webhook", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_a_new_passphrase_is_printed_once_and_never_logged(tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    data_dir = tmp_path / "data"
    first = Headless(data_dir, env, free_port())
    first.wait_ready()
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(10) == 0
    printed = re.findall(r"^Webhook passphrase \(created now, shown once.*\): (\S+)$", first.output(), re.M)
    assert len(printed) == 1
    passphrase = printed[0]
    assert passphrase not in (data_dir / "logs" / "station.log").read_text()

    second = Headless(data_dir, env, free_port())
    second.wait_ready()
    try:
        assert post(second.url, {"passphrase": passphrase, **DIALECT_1})["status"] == "success"
    finally:
        second.proc.send_signal(signal.SIGTERM)
        second.proc.wait(10)
    assert "Webhook passphrase" not in second.output() and passphrase not in second.output()
    assert len(journal(data_dir)) == 1
