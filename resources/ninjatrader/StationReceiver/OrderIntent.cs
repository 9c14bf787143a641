// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;

namespace StationReceiver
{
    /// <summary>What a line asks for (CONTRACT.md, "Order instructions in an alert").</summary>
    public enum LineAction { Buy, Sell, Exit, Reverse, Cancel }

    public enum TradeSide { Buy, Sell }

    public enum OrderKind { Market, Limit, Stop, StopLimit }

    public enum TifKind { Day, Gtc }

    public enum OffsetUnit { Ticks, Points, Percent }

    /// <summary>A distance from a reference price: <c>{"ticks": N}</c>, <c>{"points": X}</c> or <c>{"percent": P}</c>.</summary>
    public sealed class PriceOffset
    {
        public OffsetUnit Unit;
        public decimal Value;

        public PriceOffset(OffsetUnit unit, decimal value)
        {
            Unit = unit;
            Value = value;
        }

        public override string ToString()
        {
            return Unit.ToString().ToLowerInvariant() + " " + Value;
        }
    }

    /// <summary>A stop-loss or take-profit: an absolute price, or an offset from the entry's fill price.</summary>
    public sealed class ExitLevel
    {
        public decimal? Price;
        public PriceOffset Offset;

        public static ExitLevel AtPrice(decimal price)
        {
            ExitLevel level = new ExitLevel();
            level.Price = price;
            return level;
        }

        public static ExitLevel AtOffset(PriceOffset offset)
        {
            ExitLevel level = new ExitLevel();
            level.Offset = offset;
            return level;
        }
    }

    /// <summary>One validated line: the order (or exit, reverse, cancel) Station asked for.</summary>
    public sealed class OrderIntent
    {
        public string Id;
        public string Strategy = "";
        public string Ticker;
        public LineAction Action;
        /// <summary>Whole contracts or shares; 0 for exit and cancel, which take theirs from the account.</summary>
        public int Qty;
        /// <summary>The alert's price, when the sender gave one (a reference for absolute exits).</summary>
        public decimal? Price;
        public OrderKind Kind = OrderKind.Market;
        public decimal? LimitPrice;
        public decimal? StopPrice;
        public TifKind Tif = TifKind.Day;
        public ExitLevel StopLoss;
        public ExitLevel TakeProfit;
        public PriceOffset TrailingStop;

        /// <summary>An entry whose exits wait for its fill.</summary>
        public bool HasBracket
        {
            get { return StopLoss != null || TakeProfit != null || TrailingStop != null; }
        }
    }

    public static class Sides
    {
        public static TradeSide Opposite(TradeSide side)
        {
            return side == TradeSide.Buy ? TradeSide.Sell : TradeSide.Buy;
        }

        /// <summary>+1 for buy, -1 for sell: the sign a fill gives a position.</summary>
        public static int Sign(TradeSide side)
        {
            return side == TradeSide.Buy ? 1 : -1;
        }

        public static string Word(TradeSide side)
        {
            return side == TradeSide.Buy ? "buy" : "sell";
        }
    }
}
