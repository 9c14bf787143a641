"""The command line as a user runs it: subprocesses, real files, a real file keyring."""

import json
import signal
import socket

import pytest

from support.launch import free_port, run_cli
from support.wait import until

CONTRACT_CONFIG = {"strategies": {"MomentumStrategy": {"accounts": {},
                   "tickers": {"AAPL": {"ports": [5000]}, "TSLA": {"ports": [5001, 5002]}}}}}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_version():
    from station import __version__

    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"station {__version__}"


@pytest.mark.parametrize("args", [["--bogus"], ["--port", "99999"], ["--port", "x"], ["config"],
                                  ["config", "import"], ["secret", "set"], ["bench", "nope"],
                                  ["--demo", "--headless"]])
def test_bad_arguments_give_one_line_and_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith("station: error:")


def test_headless_serves_health_and_stops_cleanly_on_sigterm(headless):
    station = headless()  # how soon /health answers is `station bench start`'s figure, not a test's
    with socket.create_connection(("127.0.0.1", station.port)):
        pass
    code, took = station.stop(signal.SIGTERM)
    assert code == 0 and took < 2.0


def test_headless_stops_cleanly_on_sigint(headless):
    station = headless()
    code, took = station.stop(signal.SIGINT)
    assert code == 0 and took < 2.0


def test_health_reports_ok(headless):
    import urllib.request

    station = headless()
    with urllib.request.urlopen(f"{station.url}/health") as response:
        body = json.load(response)
    assert body["status"] == "ok" and body["connections"]["receiver"] == "connected"


def test_options_are_accepted_after_the_subcommand_too(data_dir, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CONTRACT_CONFIG))
    before = run_cli("--data-dir", str(data_dir), "config", "import", str(path))
    after = run_cli("config", "import", str(path), "--data-dir", str(data_dir))
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr


def test_config_import_of_the_contract_example_and_export(data_dir, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CONTRACT_CONFIG))
    result = run_cli("config", "import", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.json"
    result = run_cli("config", "export", str(out), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    exported = json.loads(out.read_text())
    tickers = exported["strategies"]["MomentumStrategy"]["tickers"]
    assert tickers["AAPL"]["ports"] == [5000] and tickers["TSLA"]["ports"] == [5001, 5002]
    # our own export imports back unchanged
    again = run_cli("config", "import", str(out), "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert json.loads(run_cli("config", "export", "-", "--data-dir", str(data_dir)).stdout) == exported


def test_config_import_takes_a_file_written_with_a_byte_order_mark(data_dir, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(CONTRACT_CONFIG).encode())
    result = run_cli("config", "import", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    exported = json.loads(run_cli("config", "export", "-", "--data-dir", str(data_dir)).stdout)
    assert exported["strategies"]["MomentumStrategy"]["tickers"]["TSLA"]["ports"] == [5001, 5002]


@pytest.mark.parametrize("content, needle", [
    (None, "cannot read"),
    ("{not json", "not valid JSON"),
    (json.dumps({"settings": {"webhook": {"dedup_window_s": "soon"}}}), "settings.webhook.dedup_window_s"),
])
def test_a_bad_config_file_is_one_line_exit_2_and_changes_nothing(data_dir, tmp_path, content, needle):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    before = run_cli("config", "export", "-", "--data-dir", str(data_dir)).stdout
    result = run_cli("config", "import", str(path), "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert needle in one_line(result.stderr)
    assert run_cli("config", "export", "-", "--data-dir", str(data_dir)).stdout == before


def test_secret_set_and_delete_against_the_file_keyring(keyring_env, secrets):
    result = run_cli("secret", "set", "api-token", input="tok-abc\n", env=keyring_env)
    assert result.returncode == 0, result.stderr
    assert "tok-abc" not in result.stdout + result.stderr
    from station.secrets import SecretStore

    assert SecretStore.system().get("api-token").reveal() == "tok-abc"  # one trailing newline stripped
    result = run_cli("secret", "set", "api-token", input="two\nlines\n\n", env=keyring_env)
    assert SecretStore.system().get("api-token").reveal() == "two\nlines\n"
    result = run_cli("secret", "delete", "api-token", env=keyring_env)
    assert result.returncode == 0 and SecretStore.system().get("api-token") is None


def test_secret_set_refuses_an_empty_value(keyring_env):
    result = run_cli("secret", "set", "api-token", input="\n", env=keyring_env)
    assert result.returncode == 2 and "empty" in one_line(result.stderr)


def test_secret_set_refuses_bytes_that_are_not_text_and_stores_nothing(keyring_env):
    import os
    import subprocess

    from support.launch import station_cmd

    result = subprocess.run(station_cmd("secret", "set", "api-token"), input=b"\xff\xfesecret\n", capture_output=True,
                            env={**os.environ, **keyring_env}, timeout=60)
    assert result.returncode == 2 and "not text" in one_line(result.stderr.decode()), result.stderr
    from station.secrets import SecretStore

    assert SecretStore.system().get("api-token") is None


def test_a_missing_keyring_is_one_line_exit_2(data_dir):
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_cli("secret", "set", "api-token", input="x\n", env=env)
    assert result.returncode == 2 and "keyring" in one_line(result.stderr)
    result = run_cli("--headless", "--data-dir", str(data_dir), "--port", str(free_port()), env=env)
    assert result.returncode == 2 and "keyring" in result.stderr.splitlines()[-1]


def test_a_port_in_use_is_a_clear_error(data_dir, keyring_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("--headless", "--data-dir", str(data_dir), "--port", str(port), env=keyring_env)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("port", ["0", None])
def test_a_host_this_machine_cannot_listen_on_is_one_line_exit_2(data_dir, keyring_env, port):
    port = port or str(free_port())
    result = run_cli("--headless", "--data-dir", str(data_dir), "--host", "192.0.2.1", "--port", port, env=keyring_env)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"station: error: cannot listen on 192.0.2.1:{port}")


def test_gui_without_a_display_says_what_to_do(data_dir, keyring_env, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("--data-dir", str(data_dir), "--port", str(free_port()), env=keyring_env)
    assert result.returncode == 2 and "QT_QPA_PLATFORM=offscreen" in one_line(result.stderr)


def test_demo_window_comes_up_offscreen(data_dir, keyring_env):
    result = run_cli("--demo", "--smoke", "--data-dir", str(data_dir), "--port", str(free_port()),
                     env={**keyring_env, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert "first paint after" in result.stdout


def test_headless_collects_garbage_again_once_started(data_dir, secrets):
    """`station` starts with the cyclic collector off (station/cli.py); the running core collects."""
    import asyncio
    import gc
    import os

    from station import app
    from station.app import Options

    async def scenario():
        serving = asyncio.ensure_future(app.serve(Options(data_dir=data_dir, port=free_port(), headless=True),
                                                  secrets, app._headless))
        await until(lambda: gc.isenabled() or serving.done(), 5, what="the collector on, or serve() over")
        enabled = gc.isenabled()
        os.kill(os.getpid(), signal.SIGTERM)  # serve's own handler: stop as on a real SIGTERM
        return enabled, await asyncio.wait_for(serving, 10)

    gc.disable()  # as station/cli.py leaves it (and as this test session runs)
    try:
        assert asyncio.run(scenario()) == (True, 0)
    finally:
        gc.disable()
