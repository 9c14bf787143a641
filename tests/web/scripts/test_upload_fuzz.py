"""Whatever CSV a script uploads — odd cells, huge or non-finite numbers, stray quotes, wrong headers — the
upload is either accepted whole with sound rows or refused with `UploadError` naming its lines; no other
exception (a 5xx at `POST /api/trading-data`, silence on Socket.IO) and nothing half-applied."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.web.scripts.feed import UploadError, parse_upload
from station.web.scripts.rows import BAR_COLUMNS, TRADE_COLUMNS

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
ODD = ["", " ", "1e300", "-1e300", "1e999999", "nan", "NaN", "inf", "-0", "0", "1_000", "١٢", "0x10", "1,5",
       "\"", "=1+1", "2024-03-01T10:00:00", "2024-03-01 10:00:00+02:00", "1709305200", "1709305200000",
       "99999999999999999999", "buy", "SELL", "short", "ES", "\u0000", "\ufeff", "9" * 400]
cell = st.one_of(st.sampled_from(ODD), st.text(max_size=12), st.integers().map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))


def csv_text(columns: tuple[str, ...]):
    """A header (the real one, shuffled, cut or with strangers) and rows of odd cells, some of the wrong width."""
    header = st.one_of(st.just(list(columns)), st.permutations(columns), st.lists(
        st.one_of(st.sampled_from(columns), st.text(max_size=6)), max_size=len(columns) + 2))
    return header.flatmap(lambda names: st.lists(
        st.lists(cell, min_size=max(0, len(names) - 1), max_size=len(names) + 1), max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in [names, *rows])))


def sound(trades, bars) -> bool:
    for trade in trades:
        assert trade.timestamp.tzinfo is not None and trade.quantity > 0 and trade.price > 0
        assert trade.quantity.is_finite() and trade.price.is_finite()
    for bar in bars:
        assert all(math.isfinite(float(v)) for v in (bar.open, bar.high, bar.low, bar.close))
    return True


@EXAMPLES
@given(trades=st.one_of(st.none(), csv_text(TRADE_COLUMNS)), bars=st.one_of(st.none(), csv_text(BAR_COLUMNS)))
def test_any_csv_is_accepted_sound_or_refused_by_line(trades, bars):
    try:
        parsed_trades, parsed_bars = parse_upload({"trades_csv": trades, "market_data_csv": bars})
    except UploadError as refused:
        json.dumps({"message": str(refused), "errors": refused.errors})  # the 400's body is plain JSON
        return
    assert sound(parsed_trades, parsed_bars)


@EXAMPLES
@given(good=st.integers(1, 5), bad_cell=st.sampled_from(["1e300", "nan", "-1", "0", "1_000", "١٢", "x", ""]))
def test_one_bad_row_refuses_the_whole_upload(good, bad_cell):
    rows = [f"2024-03-01T10:00:0{i},ES,buy,1,5000.25,,S" for i in range(good)]
    rows.insert(good // 2, f"2024-03-01T10:00:09,ES,buy,{bad_cell},5000.25,,S")
    text = "\n".join([",".join(TRADE_COLUMNS), *rows])
    try:
        parse_upload({"trades_csv": text})
    except UploadError as refused:
        assert str(refused).startswith("nothing applied") and f"line {good // 2 + 2}" in str(refused)
    else:
        raise AssertionError(f"a quantity of {bad_cell!r} was accepted")
