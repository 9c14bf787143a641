"""The `station` command line (see CONTRACT.md, "Command line").

Just past 400 lines: the parser and one short handler per subcommand, each handing over to the module
that does the work; kept together so the whole command line reads in one place.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from station import __version__

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem the user can fix: printed as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        raise UsageError(f"{message} (see station --help)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range 0-65535")
    return value


def _common(defaults: bool) -> argparse.ArgumentParser:
    """--data-dir/--host/--port, accepted before or after a subcommand's own words."""
    common = argparse.ArgumentParser(add_help=False)
    kw = {} if defaults else {"default": argparse.SUPPRESS}
    common.add_argument("--data-dir", type=Path, metavar="DIR", help="database, logs, exports (default: the OS's per-user data folder)", **kw)
    common.add_argument("--host", metavar="HOST", help="address the receiver listens on (default 127.0.0.1)", **kw)
    common.add_argument("--port", type=_port, metavar="PORT", help="receiver port (default 8765)", **kw)
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="station", description="Station: alerts, strategies and orders in one trading desk.",
                     parents=[_common(defaults=True)])
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", help="paper broker, replayed sample data; needs no account, key or network")
    mode.add_argument("--headless", action="store_true", help="the core without a window (SIGINT/SIGTERM stop it cleanly)")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--self-check", action="store_true",
                        help="check that this installation has every library, Qt plugin, keyring backend and file, then exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    common = _common(defaults=False)

    config = sub.add_parser("config", help="import or export strategies, tickers, destinations, settings", parents=[common])
    config_sub = config.add_subparsers(dest="action", required=True, parser_class=_Parser, metavar="ACTION")
    config_sub.add_parser("import", help="load a config JSON file", parents=[common]).add_argument("file")
    config_sub.add_parser("export", help="write the config as JSON ('-' for stdout)", parents=[common]).add_argument("file")

    secret = sub.add_parser("secret", help="store or delete a secret in the OS keyring", parents=[common])
    secret_sub = secret.add_subparsers(dest="action", required=True, parser_class=_Parser, metavar="ACTION")
    secret_sub.add_parser("set", help="read the value from stdin", parents=[common]).add_argument("name")
    secret_sub.add_parser("delete", help="remove it", parents=[common]).add_argument("name")

    broker = sub.add_parser("broker", help="broker logins (Schwab's browser authorisation)", parents=[common])
    broker_sub = broker.add_subparsers(dest="action", required=True, parser_class=_Parser, metavar="ACTION")
    authorize = broker_sub.add_parser("authorize", help="log in to a broker in the browser and store its token",
                                      parents=[common])
    authorize.add_argument("broker", choices=["schwab"], help="schwab")
    authorize.add_argument("--destination", metavar="NAME", help="which schwab destination's URLs to use")
    authorize.add_argument("--redirect-url", metavar="URL", help="the address Schwab redirected to (else asked for)")
    strategy = sub.add_parser("strategy", help="list strategies, or turn trading of one on or off", parents=[common])
    strategy_sub = strategy.add_subparsers(dest="action", required=True, parser_class=_Parser, metavar="ACTION")
    strategy_sub.add_parser("list", help="every strategy with its state", parents=[common])
    for word, what in (("start", "take alerts (and run its engine)"), ("stop", "stop trading it")):
        strategy_sub.add_parser(word, help=what, parents=[common]).add_argument("name")
    analyze = sub.add_parser("analyze", help="alerts-vs-fills report: CSV files and an HTML page", parents=[common])
    analyze.add_argument("--since", metavar="DATE", help="only alerts received since DATE (ISO date or time, US/Eastern "
                         "unless it names its zone)")
    analyze.add_argument("--out", type=Path, metavar="DIR",
                         help="folder for the report (default: <data dir>/exports/analysis-<time>)")

    from station.research.command import add_arguments as backtest_arguments

    backtest_arguments(sub.add_parser("backtest", help="a strategy over history (and parameter sweeps)",
                                      parents=[common]))

    from station.bench import available as benches

    bench = sub.add_parser("bench", help="built-in benchmarks", parents=[common])
    bench.add_argument("name", choices=benches(), metavar="NAME", help=f"one of: {', '.join(benches())}")
    bench.add_argument("--json", action="store_true", help="print one JSON line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except UsageError as exc:
        print(f"station: error: {exc}", file=sys.stderr)
        if sys.stderr is None:  # started without a console (Windows' stationw.exe): say it in a dialog
            from station.ui.launch import show_error

            show_error(f"Station cannot start: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _data_dir(args: argparse.Namespace) -> Path:
    from station.paths import default_data_dir

    data_dir = getattr(args, "data_dir", None)
    if data_dir is None:
        data_dir = default_data_dir() / "demo" if getattr(args, "demo", False) else default_data_dir()
    data_dir = data_dir.expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use data directory {data_dir}: {exc.strerror or exc}") from None
    if not data_dir.is_dir():
        raise UsageError(f"data directory {data_dir} is not a directory")
    return data_dir


def _dispatch(args: argparse.Namespace) -> int:
    from station.logs import setup_logging

    if args.self_check:
        from station.selfcheck import run

        return run()
    subcommand = {"config": _config, "secret": _secret, "broker": _broker, "analyze": _analyze,
                  "bench": _bench, "strategy": _strategy, "backtest": _backtest}.get(args.command)
    if subcommand is not None:
        setup_logging(None)
        return subcommand(args)
    options = _options(args)
    from station.store import StoreError, check_usable
    from station.store.lock import hold_data_dir

    try:  # refused before anything in the data dir is touched: one line, exit 2
        check_usable(options.data_dir)
        lock = hold_data_dir(options.data_dir)  # noqa: F841  (held while Station runs)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        setup_logging(options.data_dir, console_level=logging.INFO if options.headless else logging.WARNING)
    except OSError as exc:
        raise UsageError(f"cannot write the log in {options.data_dir / 'logs'}: {exc.strerror or exc}") from None
    try:
        return _run(options, smoke=args.smoke)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _options(args: argparse.Namespace):
    from station.app import Options

    return Options(
        data_dir=_data_dir(args),
        host=getattr(args, "host", None) or "127.0.0.1",
        port=8765 if getattr(args, "port", None) is None else args.port,
        demo=getattr(args, "demo", False),
        headless=getattr(args, "headless", False),
    )


def _secret_store(*, demo: bool):
    from station.secrets import KeyringUnavailable, MemoryBackend, SecretStore

    try:
        return SecretStore.system()
    except KeyringUnavailable as exc:
        if not demo:
            raise UsageError(str(exc)) from None
        logging.getLogger("station.app").warning("%s; the demo keeps its secrets in memory for this run", exc)
        return SecretStore(MemoryBackend())


def _check_usable(data_dir: Path) -> None:
    """One line (exit 2) if the data dir's database cannot be used; reads only."""
    from station.store import StoreError, check_usable

    try:
        check_usable(data_dir)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _open_store(args: argparse.Namespace):
    """The data dir's Store, or one line (exit 2) saying why it cannot be used."""
    from station.store import Store, StoreError

    data_dir = _data_dir(args)
    _check_usable(data_dir)
    try:
        return Store(data_dir)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _bench(args: argparse.Namespace) -> int:
    from station.bench import run_bench

    return run_bench(args.name, _options(args), as_json=args.json)


def _run(options, *, smoke: bool) -> int:
    # Start-up imports and builds a great deal and frees little: collections while it runs only
    # cost time (~5 % of the start). The window's collector takes over (station/ui/gc_guard.py);
    # headless, collection is switched back on once Station has started (station.app.run_headless).
    gc.disable()
    from station.web.server import ReceiverError, check_can_listen

    secrets = _secret_store(demo=options.demo)
    try:
        check_can_listen(options.host, options.port)  # a taken port: one line, before any start-up output
        if options.headless:
            from station.app import run_headless

            return run_headless(options, secrets)
        from station.ui.launch import NoDisplay, check_display, run_gui

        try:
            check_display()
        except NoDisplay as exc:
            raise UsageError(str(exc)) from None
        return run_gui(options, secrets, smoke=smoke)
    except ReceiverError as exc:
        raise UsageError(str(exc)) from None


def _config(args: argparse.Namespace) -> int:
    from station.store.config_repo import ConfigRepository
    from station.domain.validation import ConfigError

    if args.action == "import":
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}") from None
        try:  # a leading BOM is what Windows tools (PowerShell's utf8, older Notepad) write: not an error
            document = json.loads(text.removeprefix("\ufeff"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{args.file} is not valid JSON: {exc}") from None
        except RecursionError:
            raise UsageError(f"{args.file} is nested too deeply to be a config file") from None
        store = _open_store(args)
        try:
            revision = ConfigRepository(store).import_document(document)
        except ConfigError as exc:
            raise UsageError(f"{args.file}: nothing imported: {exc}") from None
        finally:
            store.close()
        counts = {k: len(document.get(k) or {}) for k in ("strategies", "destinations")}
        print(f"imported {counts['strategies']} strategies and {counts['destinations']} destinations "
              f"from {args.file} (config revision {revision})")
        return 0
    store = _open_store(args)
    try:
        document = ConfigRepository(store).export_document()
    finally:
        store.close()
    text = json.dumps(document, indent=2) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    print(f"exported the config to {args.file}")
    return 0


def _broker(args: argparse.Namespace) -> int:
    from station.brokers.schwab.authorize import AuthorizeError, authorize, pick_destination
    from station.store.config_repo import ConfigRepository
    from station.secrets import KeyringUnavailable

    store = _open_store(args)
    try:
        destinations = list(ConfigRepository(store).load().destinations)
    finally:
        store.close()

    def read_line() -> str:
        line = sys.stdin.readline() if sys.stdin else ""
        if not line.strip():
            raise UsageError("no redirected address given: nothing stored")
        return line

    try:
        destination = pick_destination(destinations, args.destination)
        authorize(_secret_store(demo=False), destination, read_line=read_line, say=print, redirect_url=args.redirect_url)
    except (AuthorizeError, KeyringUnavailable) as exc:
        raise UsageError(str(exc)) from None

def _strategy(args: argparse.Namespace) -> int:
    """`station strategy list|start|stop`: written to the data dir; a running Station follows within 5 s."""
    from station.store.strategy_switch import StrategySwitchRepository

    store = _open_store(args)
    try:
        switch = StrategySwitchRepository(store)
        running = _station_running(store.path.parent)
        if args.action == "list":
            for name, kind, state, reason in switch.listing(running):
                print(f"{name:<24} {kind:<10} {state:<10} {reason}".rstrip())
            return 0
        try:
            switch.set_running_now(args.name, args.action == "start")
        except KeyError:
            raise UsageError(f"no strategy named {args.name!r} in {store.path.parent}") from None
    finally:
        store.close()
    later = "the running Station follows within 5 s" if running else "it takes effect when Station starts"
    print(f"strategy {args.name} {'started' if args.action == 'start' else 'stopped'} ({later})")
    return 0


def _station_running(data_dir: Path) -> bool:
    from station.store import StoreError
    from station.store.lock import hold_data_dir

    try:
        hold_data_dir(data_dir).release()
    except StoreError:
        return True
    return False


def _analyze(args: argparse.Namespace) -> int:
    from station.analysis.options import AnalysisError, default_out_dir, parse_since, prepare_out_dir

    try:
        since = parse_since(args.since) if args.since is not None else None
        data_dir = _data_dir(args)
        _check_usable(data_dir)  # an unusable data dir is refused before its exports folder is made
        out_dir = prepare_out_dir(args.out if args.out is not None else default_out_dir(data_dir))
    except AnalysisError as exc:
        raise UsageError(str(exc)) from None
    store = _open_store(args)
    try:
        from station.analysis.export import run_analysis

        report = run_analysis(store, out_dir, since=since)
    except AnalysisError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    print("\n".join(report.summary_lines()))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from station.research.command import CommandError, run
    from station.store.config_repo import ConfigRepository

    stores = []

    def open_config() -> ConfigRepository:
        stores.append(_open_store(args))
        return ConfigRepository(stores[-1])

    try:
        return run(args, _data_dir(args), open_config)
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    finally:
        for store in stores:
            store.close()


def _secret(args: argparse.Namespace) -> int:
    from station.secrets import KeyringUnavailable, check_name

    try:
        check_name(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = _secret_store(demo=False)
    try:
        if args.action == "set":
            value = _read_secret_value(args.name)
            store.set(args.name, value)
            print(f"secret {args.name} stored in {store.description}")
        elif store.delete(args.name):
            print(f"secret {args.name} deleted")
        else:
            print(f"secret {args.name} was not set", file=sys.stderr)
    except KeyringUnavailable as exc:
        raise UsageError(str(exc)) from None
    return 0


def _read_secret_value(name: str) -> str:
    if sys.stdin is None:
        raise UsageError("no standard input to read the secret from")
    if sys.stdin.isatty():
        value = getpass.getpass(f"{name}: ")
    else:
        try:  # stdin decodes undecodable bytes as surrogates, which no keyring can store
            value = sys.stdin.read()
            value.encode("utf-8")
        except UnicodeError:
            raise UsageError(f"the value on stdin is not text (UTF-8): secret {name} not stored") from None
        if value.endswith("\r\n"):
            value = value[:-2]
        elif value.endswith("\n"):
            value = value[:-1]
    if not value:
        raise UsageError(f"empty value: secret {name} not stored")
    return value
