"""Alerts committed together are routed together: one writer job, exact per-alert outcomes, few notices."""

import dataclasses

from support.oms import journal_row, make_alert
from support.wait import until
from station.app import Options, Station
from station.domain.events import AlertReceived, AlertRouted, AlertUnrouted, Notified
from station.oms.notices import AlertNotices

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}}},
}


async def test_a_burst_of_alerts_is_routed_in_one_write_with_one_notice_per_reason(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    await station.start()
    writes, routed, unrouted, notes = [], [], [], []
    write = station.oms.recorder.write
    station.oms.recorder.write = lambda *a, **kw: (writes.append(kw.get("lazy")), write(*a, **kw))[1]
    station.bus.subscribe(AlertRouted, routed.append)
    station.bus.subscribe(AlertUnrouted, unrouted.append)
    station.bus.subscribe(Notified, lambda n: n.title == "Alert not routed" and notes.append(n))
    burst = [make_alert("ES" if i % 3 == 0 else "CL") for i in range(30)]

    def insert_all(conn):
        return [journal_row(conn, alert) for alert in burst]

    ids = await station.store.writer.run(insert_all)
    for alert, alert_id in zip(burst, ids):  # as the webhook publishes one journal commit: in one turn of the loop
        station.bus.publish(AlertReceived(dataclasses.replace(alert, alert_id=alert_id)))
    await until(lambda: len(routed) == 10 and len(unrouted) == 20)
    await station.oms.recorder.flush()
    routing_writes = [lazy for lazy in writes if lazy is not None]  # fills and order updates pass no `lazy`
    assert routing_writes == [False]  # one write for the whole burst; it holds orders, so it does not wait
    statuses = dict(station.store.query("SELECT alert_id, status FROM alerts"))
    assert [statuses[i] for i in ids] == ["routed" if i % 3 == 0 else "unrouted" for i in range(30)]
    assert sorted(r["alert_id"] for r in station.store.query("SELECT alert_id FROM orders")) == ids[::3]
    assert len(notes) == 1 and notes[0].message.startswith("20 alerts") and "CL" in notes[0].message
    await station.stop()


async def test_statuses_alone_wait_for_the_next_commit_instead_of_flushing_the_disk_themselves(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    await station.start()
    writes = []
    write = station.oms.recorder.write
    station.oms.recorder.write = lambda *a, **kw: (writes.append(kw.get("lazy")), write(*a, **kw))[1]
    alert_id = await station.store.writer.run(lambda conn: journal_row(conn, make_alert("CL")))
    station.bus.publish(AlertReceived(dataclasses.replace(make_alert("CL"), alert_id=alert_id)))
    await until(lambda: writes)
    commits = station.store.writer.commits
    await station.store.writer.run(lambda conn: None)  # the next commit takes the status along
    assert station.store.writer.commits == commits + 1
    assert station.store.query("SELECT status FROM alerts WHERE alert_id = ?", (alert_id,))[0][0] == "unrouted"
    assert writes == [True]
    await station.stop()


async def test_notices_say_the_first_at_once_then_sum_up_a_flood_each_interval():
    published = []
    notices = AlertNotices(published.append, interval_s=0.05)
    alerts = [dataclasses.replace(make_alert("CL"), alert_id=i) for i in range(1, 8)]
    notices.add("Alert not routed", "no strategy", alerts[:1])
    assert [n.message for n in published] == ["Alert 1 (CL): no strategy"]
    notices.add("Alert not routed", "no strategy", alerts[1:3])
    notices.add("Alert not routed", "no strategy", alerts[3:4])
    notices.add("Alert rejected", "kill switch", alerts[4:5])  # another reason is told at once
    assert len(published) == 2
    await until(lambda: len(published) == 3, what="the window closed")
    assert published[2].message == "3 alerts, 2 to 4 (CL): no strategy"
    await until(lambda: notices.quiet, what="every window closed")
    assert len(published) == 3  # a quiet interval: nothing to sum up
    notices.add("Alert not routed", "no strategy", alerts[5:6])
    assert published[3].message == "Alert 6 (CL): no strategy"
    notices.add("Alert not routed", "no strategy", alerts[6:7])
    notices.flush()  # at shutdown what is held is told at once
    assert published[4].message == "Alert 7 (CL): no strategy" and all(n.level == "warning" for n in published)
