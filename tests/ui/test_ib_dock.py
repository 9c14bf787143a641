"""The Interactive Brokers dock offscreen: link states, the account's PnL, editing the contract table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtWidgets import QDialog

from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.domain.commands import ResolveContract
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ContractResolved, PortfolioReported
from station.store.ib_contract_repo import IbContractRepository
from station.ui.ib_contract_dialog import ContractDialog
from station.ui.launch import main_window

CONFIG = {"destinations": {"ib": {"type": "ib", "host": "127.0.0.1", "port": 7497, "client_id": 7,
                                  "account": "DU123456"},
                           "ib-gw": {"type": "ib", "host": "127.0.0.1", "port": 4002, "client_id": 3}}}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


class SilentLink:
    """Stands in for the IB brokers the oms builds from CONFIG: the test plays their events itself."""

    def __init__(self, name: str) -> None:
        self.name, self.state = name, ConnectionState.DISCONNECTED

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


def test_the_dock_shows_links_pnl_and_edits_the_contract_table(qtbot, data_dir, secrets, tmp_path, monkeypatch):
    from station.brokers import registry

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", lambda destination, context: SilentLink(destination.name))
    shots = tmp_path

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        core.config.import_document(CONFIG)
        await core.start()
        window = main_window(core)
        window.resize(1200, 700)
        window.show()
        dock = window.dock_widget("IbDock")
        window.docks["IbDock"].raise_()
        asked: list = []
        core.bus.subscribe(ResolveContract, asked.append)
        bus = core.bus
        bus.publish(ConnectionChanged("ib", "broker", ConnectionState.CONNECTED,
                                      "TWS v176 at 127.0.0.1:7497, client 7, account DU123456; reconciled 2 open "
                                      "orders, 5 executions, 2 positions in 14 ms"))
        bus.publish(ConnectionChanged("ib-gw", "broker", ConnectionState.DISCONNECTED,
                                      "TWS/IB Gateway is not listening at 127.0.0.1:4002; retrying in 4 s"))
        bus.publish(ConnectionChanged("paper", "broker", ConnectionState.CONNECTED))  # not an IB link: not listed
        bus.publish(PortfolioReported("ib", "DU123456", "MES1!", Decimal(2), Decimal("5801.25"), Decimal("5810.5"),
                                      Decimal("92.5"), Decimal("0")))
        bus.publish(PortfolioReported("ib", "DU123456", "AAPL", Decimal(-10), Decimal("190.2"), Decimal("191.0"),
                                      Decimal("-8"), Decimal("12.5")))
        await until(lambda: len(dock.portfolio.records()) == 2
                    and [r.state for r in dock.links.records()] == [ConnectionState.CONNECTED,
                                                                     ConnectionState.DISCONNECTED],
                    what="both links and both positions")
        window.grab().save(str(shots / "ib-connection.png"))
        dock.tabs.setCurrentIndex(1)
        window.grab().save(str(shots / "ib-account.png"))

        dock.tabs.setCurrentIndex(2)
        dialog = dock.add()
        dialog.texts["tvSymbol"].setText("CME_MINI:MES1!")
        dialog.read_symbol()
        dialog.roll_days.setValue(5)
        dialog.texts["note"].setText("micro, rolled early")
        dialog.dialog.grab().save(str(shots / "ib-dialog.png"))
        rule = dialog.rule.text()
        dialog.save()
        await until(lambda: any(m.tv_symbol == "CME_MINI:MES1!" for m in dock.contracts.records()),
                    what="the saved row in the table")
        bad = dock.add()
        bad.texts["tvSymbol"].setText("X")
        bad.sec_type.setCurrentIndex(bad.sec_type.findData("OPT"))
        bad.save()  # an option without a right: refused in the form, nothing stored
        bad_error, bad_open = bad.error.text(), bad.dialog.isVisible()
        bad.dialog.reject()
        row = dock.contracts.records().index(next(m for m in dock.contracts.records() if m.tv_symbol == "CME_MINI:MES1!"))
        dock.contract_table.selectRow(row)
        dock.look_up()
        bus.publish(ContractResolved("ib", "CME_MINI:MES1!", "FUT MESH5, conId 123, CME, expires 2025-03-21, rolls 2025-03-16"))
        await until(lambda: "rolls 2025-03-16" in dock.lookup_result.text(), what="the lookup's answer")
        window.grab().save(str(shots / "ib-contracts.png"))
        state = dict(links=[(r.name, r.state) for r in dock.links.records()], rule=rule, asked=asked,
                     portfolio=len(dock.portfolio.records()), result=dock.lookup_result.text(),
                     bad_error=bad_error, bad_open=bad_open,
                     stored=IbContractRepository(core.store).get("CME_MINI:MES1!"))
        window.close()
        await core.stop()
        return state

    state = run_qt(scenario)
    assert state["links"] == [("ib", ConnectionState.CONNECTED), ("ib-gw", ConnectionState.DISCONNECTED)]
    assert state["portfolio"] == 2
    assert state["rule"] == "CME_MINI:MES1! → future MES: front month; rolls 5 days before the last trading day"
    stored = state["stored"]
    assert (stored.sec_type, stored.symbol, stored.exchange, stored.roll_days, stored.note) == \
        ("FUT", "MES", "CME", 5, "micro, rolled early")
    assert "right" in state["bad_error"] and state["bad_open"]
    assert state["asked"] == [ResolveContract("ib", "CME_MINI:MES1!")]
    assert "rolls 2025-03-16" in state["result"]
    for name in ("ib-connection", "ib-account", "ib-contracts", "ib-dialog"):
        assert (shots / f"{name}.png").stat().st_size > 5000


def test_the_contract_form_loads_and_reads_symbols(qtbot):
    saved = []
    dialog = ContractDialog(None, lambda m, r: saved.append((m, r)))
    qtbot.addWidget(dialog.dialog)
    assert isinstance(dialog.dialog, QDialog)
    dialog.texts["tvSymbol"].setText("SPXW 0DTE +1 C")
    dialog.read_symbol()
    assert dialog.mapping().rule() == "today's expiry (0DTE), 1 strike(s) out of the money, call"
    assert dialog.roll_days.isEnabled() is False and dialog.strike.isEnabled()
    dialog.strike.setText("abc")
    dialog.save()
    assert saved == [] and "strike" in dialog.error.text()
    dialog.strike.setText("5800")
    dialog.save()
    assert saved[0][0].strike == Decimal(5800) and saved[0][1] is None
