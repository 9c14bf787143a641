"""Every DBN file of ../shared/data/dbn (plain and zstd, v2/v3) and generated v1 files, read through databento."""

import sys
from datetime import datetime, timezone
from pathlib import Path

import databento
import numpy as np
import pytest
import zstandard

from station.marketdata.databento.files import DbnError, DbnFile
from station.marketdata.databento.write import metadata_bytes, trade_records, write_dbn
from station.marketdata.databento.symbology import display_symbol
from station.paths import resources_dir
from support.paths import DBN as SHARED, REPO as ROOT

SAMPLE = resources_dir() / "sample" / "glbx-es-nq-trades.dbn.zst"
# databento's to_df (the reference decoding here) uses an argument pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def shared(name: str) -> Path:
    path = SHARED / name
    assert path.exists(), f"{path} is part of the repository's test data"
    return path


def trades_of(path) -> list[tuple]:
    out = []
    for batch in DbnFile(path).batches():
        out += [(batch.symbols[c], int(t), float(p), float(s)) for c, t, p, s in
                zip(batch.code, batch.ts, batch.price, batch.size)]
    return out


def reference_trades(path) -> list[tuple]:
    """The same trades as databento's own DataFrame decoding gives them."""
    frame = databento.DBNStore.from_file(path).to_df(price_type="float", pretty_ts=False)
    frame = frame[frame["action"] == "T"] if "action" in frame else frame
    return [(s, int(t), float(p), float(z)) for s, t, p, z in
            zip(frame["symbol"], frame["ts_event"], frame["price"], frame["size"])]


@pytest.mark.parametrize("name", ["test_data.trades.dbn", "test_data.trades.v3.dbn.zst", "test_data.tbbo.v3.dbn.zst"])
def test_trade_files_decode_like_databento_itself(name):
    path = shared(name)
    ours = trades_of(path)
    assert ours == reference_trades(path)
    assert ours[0] == ("ESH1", 1609160400098821953, 3720.25, 5.0)


def test_plain_v2_and_zstd_v3_files_hold_the_same_trades():
    assert DbnFile(shared("test_data.trades.dbn")).version == 2
    assert DbnFile(shared("test_data.trades.v3.dbn.zst")).version == 3
    assert trades_of(shared("test_data.trades.dbn")) == trades_of(shared("test_data.trades.v3.dbn.zst"))


def test_mbp1_yields_only_its_trade_prints():
    path = shared("test_data.mbp-1.v3.dbn.zst")
    actions = [r.action for r in databento.DBNStore.from_file(path)]
    assert trades_of(path) == [] and "T" not in actions  # this file holds two book adds


@pytest.mark.parametrize("name", ["test_data.ohlcv-1s.v3.dbn.zst", "test_data.ohlcv-1m.dbn",
                                  "test_data.ohlcv-1m.v3.dbn.zst", "test_data.ohlcv-1h.v3.dbn.zst",
                                  "test_data.ohlcv-1d.v3.dbn.zst"])
def test_ohlcv_files_become_four_synthetic_prints_per_bar(name):
    path = shared(name)
    frame = databento.DBNStore.from_file(path).to_df(price_type="float", pretty_ts=False).reset_index()
    batches = list(DbnFile(path).batches())
    assert all(b.synthetic for b in batches)
    prints = trades_of(path)
    assert len(prints) == 4 * len(frame)
    for i, (_, row) in enumerate(frame.iterrows()):
        o, h, lo, c = (prints[4 * i + k][2] for k in range(4))
        assert (o, h, lo, c) == (row["open"], row["high"], row["low"], row["close"])
        assert prints[4 * i + 3][3] == row["volume"] and prints[4 * i][1] == int(row["ts_event"])


def test_definitions_and_statistics_are_read():
    definitions = DbnFile(shared("test_data.definition.v3.dbn.zst")).definitions()
    assert [(d.symbol, d.instrument_id, d.exchange) for d in definitions] == [("MSFT", 6819, "XNAS"), ("MSFT", 6830, "XNAS")]
    assert definitions[0].tick_size is None and definitions[0].expiration is None  # undefined in the source
    stats = DbnFile(shared("test_data.statistics.v3.dbn.zst")).statistics()
    assert [(s.symbol, s.stat_type, s.price, s.quantity) for s in stats] == [
        ("146945", "lowest_offer", 100.0, None), ("146945", "trading_session_high_price", 100.0, None)]
    with pytest.raises(DbnError, match="carries no trades"):
        list(DbnFile(shared("test_data.statistics.v3.dbn.zst")).batches())


def test_a_v1_file_is_read(tmp_path):
    import databento_dbn as dbn

    start = int(datetime(2025, 5, 14, 22, tzinfo=timezone.utc).timestamp()) * 10**9
    header = dbn.Metadata(dataset="GLBX.MDP3", start=start, end=start + 10**12, stype_in=dbn.SType.RAW_SYMBOL,
                          stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.TRADES, symbols=["ESM5"],
                          mappings=[], version=1)
    records = trade_records(4916, np.array([start + 5, start + 9]), np.array([5900.0, 5900.25]), np.array([1, 3]))
    path = write_dbn(tmp_path / "v1.dbn", bytes(header), records)
    assert DbnFile(path).version == 1
    assert trades_of(path) == [("4916", start + 5, 5900.0, 1.0), ("4916", start + 9, 5900.25, 3.0)]

    definition = dbn.InstrumentDefMsgV1(
        publisher_id=1, instrument_id=4916, ts_event=start, ts_recv=start, min_price_increment=250_000_000,
        display_factor=10**9, expiration=start + 30 * 86400 * 10**9, activation=start, high_limit_price=0,
        low_limit_price=0, max_price_variation=0, trading_reference_price=0, unit_of_measure_qty=50 * 10**9,
        min_price_increment_amount=0, price_ratio=0, inst_attrib_value=0, underlying_id=0, raw_instrument_id=0,
        market_depth_implied=0, market_depth=0, market_segment_id=0, max_trade_vol=0, min_lot_size=0,
        min_lot_size_block=0, min_lot_size_round_lot=0, min_trade_vol=0, contract_multiplier=0, decay_quantity=0,
        original_contract_size=0, trading_reference_date=0, appl_id=0, maturity_year=2025, decay_start_date=0,
        channel_id=0, currency="USD", settl_currency="USD", secsubtype="", raw_symbol="ESM5", group="ES",
        exchange="XCME", asset="ES", cfi="FFIXSX", security_type="FUT", unit_of_measure="IPNT", underlying="",
        strike_price_currency="", instrument_class=dbn.InstrumentClass.FUTURE, strike_price=0,
        match_algorithm=dbn.MatchAlgorithm.FIFO, md_security_trading_status=0, main_fraction=0,
        price_display_format=0, settl_price_type=0, sub_fraction=0, underlying_product=0,
        security_update_action=dbn.SecurityUpdateAction.ADD, maturity_month=6, maturity_day=20, maturity_week=0,
        user_defined_instrument=dbn.UserDefinedInstrument.NO, contract_multiplier_unit=0, flow_schedule_type=0,
        tick_rule=0)
    header = dbn.Metadata(dataset="GLBX.MDP3", start=start, end=start + 10**12, stype_in=dbn.SType.RAW_SYMBOL,
                          stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.DEFINITION, symbols=["ESM5"],
                          mappings=[], version=1)
    path = tmp_path / "def.v1.dbn"
    path.write_bytes(bytes(header) + bytes(definition))
    found = DbnFile(path).definitions()
    assert [(d.symbol, d.tick_size, d.multiplier, d.instrument_class) for d in found] == [("ESM5", 0.25, 50.0, "F")]


def test_unreadable_files_say_which_and_why(tmp_path):
    with pytest.raises(DbnError, match="no such file"):
        DbnFile(tmp_path / "missing.dbn")
    with pytest.raises(DbnError, match="a folder, not a DBN file"):
        DbnFile(tmp_path)
    junk = tmp_path / "junk.dbn"
    junk.write_text("timestamp,symbol\n")
    with pytest.raises(DbnError, match="junk.dbn: not a readable DBN file"):
        DbnFile(junk)


@pytest.mark.parametrize("name", ["test_data.trades.dbn", "test_data.trades.v3.dbn.zst"])
def test_a_file_cut_off_inside_a_record_is_an_error_not_a_shorter_file(tmp_path, name):
    """databento only warns and drops the partial record: a half-downloaded file would pass for a whole one."""
    whole = shared(name).read_bytes()
    if name.endswith(".zst"):
        whole = zstandard.ZstdDecompressor().decompressobj().decompress(whole)
    cut = tmp_path / name.replace(".zst", "")
    cut.write_bytes(whole[:-5])
    with pytest.raises(DbnError, match="cut off"):
        list(DbnFile(cut).batches())
    packed = tmp_path / "cut.dbn.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(whole[:-5]))
    with pytest.raises(DbnError, match="cut off"):
        list(DbnFile(packed).batches())


def test_symbols_are_published_under_their_station_names(tmp_path):
    assert display_symbol("continuous", "ES.c.0") == "ES"
    assert display_symbol("continuous", "ES.c.1") == "ES.c.1"
    assert display_symbol("parent", "ES.FUT", "ESM5") == "ESM5"
    assert display_symbol("raw_symbol", "NQM5") == "NQM5"
    start = int(datetime(2025, 5, 14, 22, tzinfo=timezone.utc).timestamp()) * 10**9
    header = metadata_bytes({"MES.c.0": 11, "MNQ.c.0": 12}, start, start + 10**12, stype_in="continuous")
    records = trade_records(np.array([11, 12, 99]), start + np.arange(3), np.full(3, 5000.0), np.ones(3))
    path = write_dbn(tmp_path / "c.dbn.zst", header, records, zstd_level=3)
    assert [t[0] for t in trades_of(path)] == ["MES", "MNQ", "99"]  # an unmapped id keeps its number


def test_the_bundled_sample_is_a_believable_es_nq_session():
    sample = DbnFile(SAMPLE)
    assert SAMPLE.stat().st_size < 6_000_000
    assert (sample.dataset, sample.schema, sample.version) == ("GLBX.MDP3", "trades", 3)
    ts, price, size, code = [], [], [], []
    for batch in sample.batches():
        ts.append(batch.ts), price.append(batch.price), size.append(batch.size), code.append(batch.code)
    ts, price, size, code = map(np.concatenate, (ts, price, size, code))
    names = sample.names.names
    es, nq = code == names.index("ES"), code == names.index("NQ")
    assert es.sum() > 100_000 and nq.sum() > 80_000
    assert 5700 < price[es].min() < price[es].max() < 6100 and 20500 < price[nq].min() < price[nq].max() < 22500
    assert np.all(np.round(price * 4) == price * 4)  # on the 0.25 tick grid
    hour = ((ts // 10**9 - 4 * 3600) % 86400) // 3600  # EDT hour of day
    per_hour = np.bincount(hour[es], weights=size[es], minlength=24)
    assert per_hour[9] > 3 * per_hour[12] and per_hour[9] > 5 * per_hour[1]  # cash open ≫ lunch ≫ Asia
    assert per_hour[17] == 0  # the daily maintenance break


def test_the_sample_script_reproduces_the_shipped_sample():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_sample
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    fresh = make_sample.dbn_bytes(make_sample.simulate(np.random.default_rng(20250515)))
    shipped = zstandard.ZstdDecompressor().decompress(SAMPLE.read_bytes(), max_output_size=50_000_000)
    assert fresh == shipped
