"""CONTRACT.md "Command line" and "Config file", from outside: `station` subprocesses only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.launch import free_port, run_cli
from support.contract import (
    DIALECT_1,
    EXAMPLE_DESTINATIONS,
    EXAMPLE_PORTS,
    StationProcess,
    cli,
    cli_ok,
    export_config,
    import_config,
    keyring_env,
    request,
    wait_until,
)


@pytest.fixture
def env(tmp_path):
    return keyring_env(tmp_path)


def one_line_exit_2(result, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def stored(env: dict, name: str) -> str | None:
    """What the explicitly chosen keyring holds for `name`, read by keyring itself in another process."""
    code = f"import keyring; print(repr(keyring.get_password('station', {name!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env},
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout)  # noqa: S307 - the repr of a str or None printed just above


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("station ")


@pytest.mark.parametrize("args, word", [
    (["--bogus"], "--bogus"),
    (["--port", "70000", "--headless"], "70000"),
    (["--port", "eighty"], "eighty"),
    (["config"], ""),
    (["config", "import"], ""),
    (["config", "frobnicate", "x"], "frobnicate"),
    (["secret", "set"], ""),
    (["secret", "set", "Bad Name!"], "Bad Name!"),
    (["bench", "no-such-bench"], "no-such-bench"),
    (["analyze", "--since", "not-a-date"], "not-a-date"),
    (["nosuchcommand"], "nosuchcommand"),
])
def test_bad_arguments_one_line_on_stderr_exit_2(tmp_path, args, word):
    result = run_cli(*args, "--data-dir", str(tmp_path / "d"), env=keyring_env(tmp_path))
    one_line_exit_2(result, word)
    assert result.stdout == ""


def test_a_taken_port_or_a_data_dir_that_is_a_file_is_one_line_exit_2(tmp_path, env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_line_exit_2(cli(env, "--headless", "--data-dir", str(tmp_path / "d"), "--port", port), port)
    (tmp_path / "file").write_text("")
    one_line_exit_2(cli(env, "--headless", "--data-dir", str(tmp_path / "file"), "--port", str(free_port())), "file")
    one_line_exit_2(cli(env, "config", "export", "-", "--data-dir", str(tmp_path / "file")), "file")


def test_unreadable_or_invalid_config_files_are_one_line_exit_2(tmp_path, env):
    data = ["--data-dir", str(tmp_path / "d")]
    one_line_exit_2(cli(env, "config", "import", str(tmp_path / "missing.json"), *data), "missing.json")
    one_line_exit_2(cli(env, "config", "import", str(tmp_path), *data))
    (tmp_path / "broken.json").write_text('{"strategies": ')
    one_line_exit_2(cli(env, "config", "import", str(tmp_path / "broken.json"), *data), "broken.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    one_line_exit_2(cli(env, "config", "import", str(tmp_path / "list.json"), *data))
    (tmp_path / "latin1.json").write_bytes(b'{"strategies": {"\xe9": {}}}')
    one_line_exit_2(cli(env, "config", "import", str(tmp_path / "latin1.json"), *data))
    one_line_exit_2(cli(env, "config", "export", str(tmp_path / "no" / "such" / "dir" / "out.json"), *data))


def test_secret_set_reads_stdin_minus_one_trailing_newline_and_delete(env):
    cases = [("plain", "plain"), ("one\n", "one"), ("two\n\n", "two\n"), ("windows\r\n", "windows"),
             ("  spaced  \n", "  spaced  ")]
    for given, kept in cases:
        cli_ok(env, "secret", "set", "databento-key", input=given)
        assert stored(env, "databento-key") == kept, given
    result = cli(env, "secret", "set", "webhook-passphrase", input="")
    one_line_exit_2(result)
    cli_ok(env, "secret", "delete", "databento-key")
    assert stored(env, "databento-key") is None


def test_a_keyring_chosen_in_keyrings_own_config_file_is_used(tmp_path):
    config_home = tmp_path / "config"
    (config_home / "python_keyring").mkdir(parents=True)
    (config_home / "python_keyring" / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring=keyrings.alt.file.PlaintextKeyring\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(XDG_CONFIG_HOME=str(config_home), XDG_DATA_HOME=str(tmp_path / "data-home"))
    result = subprocess.run([sys.executable, "-m", "station", "secret", "set", "api-token"], input="abc\n",
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "data-home").rglob("*.cfg"))  # the file backend's own file


def test_a_missing_keyring_is_one_line_exit_2(tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    one_line_exit_2(cli(env, "secret", "set", "api-token", input="x\n"), "keyring")
    one_line_exit_2(cli(env, "secret", "delete", "api-token"), "keyring")
    result = cli(env, "--headless", "--data-dir", str(tmp_path / "d"), "--port", str(free_port()))
    one_line_exit_2(result, "keyring")


def test_both_example_documents_import_unchanged_and_the_export_round_trips(tmp_path, env):
    data_dir = tmp_path / "d"
    assert import_config(env, data_dir, EXAMPLE_PORTS).returncode == 0
    exported = export_config(env, data_dir)
    tickers = exported["strategies"]["MomentumStrategy"]["tickers"]
    assert tickers["AAPL"]["ports"] == [5000] and tickers["TSLA"]["ports"] == [5001, 5002]
    assert exported["settings"]["webhook"] == {**exported["settings"]["webhook"], "dedup_window_s": 30,
                                               "rate_limits": ["50 per second"], "allowlist": [],
                                               "behind_tunnel": False, "delay_s": 0}

    assert import_config(env, data_dir, EXAMPLE_DESTINATIONS).returncode == 0
    exported = export_config(env, data_dir)
    assert exported["destinations"]["ib"] == {**exported["destinations"]["ib"], **EXAMPLE_DESTINATIONS["destinations"]["ib"]}
    assert exported["destinations"]["nt-sim"]["account"] == "Sim101"
    mes = exported["strategies"]["MomentumStrategy"]["tickers"]["MES"]
    assert set(exported["strategies"]["MomentumStrategy"]["tickers"]) == {"MES"}  # replaced whole
    assert mes["ports"] == [5001]
    assert mes["destinations"]["paper"]["qty"] == 2 and mes["destinations"]["nt-sim"]["instrument"] == "MES 12-26"
    assert mes["destinations"]["ib"]["multiplier"] == 1

    # the export imports into an empty Station and exports the same again
    other = tmp_path / "other"
    assert import_config(env, other, exported).returncode == 0
    assert export_config(env, other) == exported
    # both options before and after the subcommand's own words
    before = json.loads(cli_ok(env, "--data-dir", str(other), "config", "export", "-"))
    assert before == exported


def test_settings_and_merge_semantics_and_errors_that_name_the_key(tmp_path, env):
    data_dir = tmp_path / "d"
    assert import_config(env, data_dir, {**EXAMPLE_PORTS,
                                         "settings": {"webhook": {"dedup_window_s": 10, "rate_limits": []}}}).returncode == 0
    assert import_config(env, data_dir, {"strategies": {"Other": {"tickers": {"NQ": {"ports": [6001]}}}},
                                         "settings": {"webhook": {"allowlist": ["10.0.0.0/8"]}}}).returncode == 0
    exported = export_config(env, data_dir)
    assert set(exported["strategies"]) == {"MomentumStrategy", "Other"}  # merged
    webhook = exported["settings"]["webhook"]
    assert (webhook["dedup_window_s"], webhook["rate_limits"], webhook["allowlist"]) == (10, [], ["10.0.0.0/8"])

    for settings, key in [({"webhook": {"bogus": 1}}, "bogus"),
                          ({"webhook": {"dedup_window_s": "ten"}}, "dedup_window_s"),
                          ({"webhook": {"rate_limits": ["50 per fortnight"]}}, "rate_limits"),
                          ({"webhook": {"rate_limits": "50 per second"}}, "rate_limits"),
                          ({"webhook": {"allowlist": ["not an address"]}}, "allowlist"),
                          ({"webhook": {"behind_tunnel": "yes"}}, "behind_tunnel"),
                          ({"webhook": {"delay_s": -1}}, "delay_s"),
                          ({"nosuchsection": {}}, "nosuchsection")]:
        document = {"strategies": {"New": {"tickers": {"ES": {"ports": [6002]}}}}, "settings": settings}
        one_line_exit_2(import_config(env, data_dir, document), key)
    one_line_exit_2(import_config(env, data_dir, {"strategies": {"New": {"tickers": {"ES": {"ports": [70000]}}}}}),
                    "ports")
    one_line_exit_2(import_config(env, data_dir, {"strategie": {}}), "strategie")
    # broker credentials live in the keyring, never in this file
    one_line_exit_2(import_config(env, data_dir, {"destinations": {"s": {"type": "schwab", "app_secret": "x"}}}),
                    "app_secret")
    one_line_exit_2(import_config(env, data_dir, {"destinations": {"t": {"type": "tastytrade", "password": "x"}}}),
                    "password")
    assert export_config(env, data_dir) == exported  # nothing of those files was applied

    for limits in (["5 per second"], ["10 per minute", "100 per hour", "1000 per day"]):
        assert import_config(env, data_dir, {"settings": {"webhook": {"rate_limits": limits}}}).returncode == 0
        assert export_config(env, data_dir)["settings"]["webhook"]["rate_limits"] == limits


def _answer(port: int, path: str):
    """`request`'s answer to a GET, or None while nothing listens yet."""
    try:
        return request(port, "GET", path)
    except OSError:
        return None


def _log(data_dir: Path) -> str:
    path = data_dir / "logs" / "station.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _trickle_alert(port: int, body: bytes) -> socket.socket:
    """Start a POST whose body is not complete yet: an in-flight request."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                 % len(body) + body[:10])
    return sock


def test_headless_health_first_passphrase_shown_in_flight_request_and_signals(tmp_path, env):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    silent = socket.socket()  # a "TWS" that accepts connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    config = {"destinations": {"ib": {"type": "ib", "host": "127.0.0.1", "port": silent.getsockname()[1],
                                      "client_id": 7}},
              "strategies": {"S": {"tickers": {"ES": {"ports": [free_port()], "destinations": {"ib": {}}}}}},
              "settings": {"oms": {"pending_limit_s": 1}}}
    assert import_config(env, data_dir, config).returncode == 0
    station = StationProcess(data_dir, env)
    try:
        station.start(wait=False)
        status, health, _ = wait_until(lambda: _answer(station.port, "/health"), 15, what="/health answering")
        # CONTRACT: ready "before any broker is connected" (this TWS never answers); how fast is `station bench start`'s
        assert status == 200 and health["status"] == "ok" and health["connections"].get("ib") != "connected", health

        wait_until(lambda: "Created the REST API token" in station.output(), what="the token line printed at startup")
        [passphrase] = [line.rsplit(": ", 1)[1] for line in station.output().splitlines()
                        if line.startswith("Webhook passphrase")]
        [token] = [line.rsplit(": ", 1)[1] for line in station.output().splitlines()
                   if line.startswith("Created the REST API token")]
        # accepted while the broker is down; its order waits, then is rejected visibly past the limit
        status, answer, _ = station.post_alert({**DIALECT_1, "ticker": "ES"}, passphrase=passphrase)
        assert status == 200 and answer["status"] == "success"
        order = wait_until(lambda: next((o for o in request(station.port, "GET", "/api/orders", token=token)[1]["orders"]
                                         if o["destination"] == "ib" and o["status"] == "rejected"), None),
                           timeout=10, what="the waiting IB order rejected")
        assert order["alert_id"] == answer["alert_id"] and order["reason"]

        sock = _trickle_alert(station.port, json.dumps({"passphrase": passphrase, **DIALECT_1, "trade_id": "late"}).encode())
        # A request on a second connection, answered, means the loop has read the first one's headers (they came first)
        assert _answer(station.port, "/health")[0] == 200
        started = time.monotonic()
        station.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "stop requested" in _log(data_dir), what="the SIGTERM handled (station.log)")
        body = json.dumps({"passphrase": passphrase, **DIALECT_1, "trade_id": "late"}).encode()
        sock.sendall(body[10:])
        answer = sock.recv(65536)
        sock.close()
        assert b" 200 " in answer.split(b"\r\n")[0] and b"Alert queued" in answer, answer
        assert station.proc.wait(5) == 0 and time.monotonic() - started < 2

        station.start()
        code, seconds = station.stop(signal.SIGINT)
        assert code == 0 and seconds < 2
        assert "Webhook passphrase" not in station.output().split("Station listening")[-1]
    finally:
        station.kill()
        silent.close()


def test_bench_names_are_listed(tmp_path):
    result = run_cli("bench", "--help")
    for name in ("webhook", "route", "replay", "chart", "engine"):
        assert name in result.stdout


def test_options_may_follow_the_subcommand(tmp_path, env):
    result = run_cli("analyze", "--out", str(tmp_path / "report"), "--data-dir", str(tmp_path / "d"),
                     env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report").is_dir()
