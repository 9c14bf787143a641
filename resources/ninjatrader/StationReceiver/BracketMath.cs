// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;

namespace StationReceiver
{
    /// <summary>Exit prices from an entry's fill price, on the instrument's tick grid.</summary>
    public static class BracketMath
    {
        public static decimal RoundToTick(decimal price, decimal tick)
        {
            if (tick <= 0)
                return price;
            return Math.Round(price / tick, 0, MidpointRounding.AwayFromZero) * tick;
        }

        /// <summary>How far <paramref name="offset"/> reaches from <paramref name="basePrice"/>.</summary>
        public static decimal Distance(PriceOffset offset, decimal basePrice, decimal tick)
        {
            switch (offset.Unit)
            {
                case OffsetUnit.Ticks: return offset.Value * tick;
                case OffsetUnit.Points: return offset.Value;
                default: return basePrice * offset.Value / 100m;
            }
        }

        /// <summary>The stop-loss for an entry on <paramref name="entrySide"/> filled at <paramref name="fill"/>.</summary>
        public static decimal StopLoss(TradeSide entrySide, decimal fill, ExitLevel level, decimal tick)
        {
            return Level(entrySide, fill, level, tick, -1);
        }

        public static decimal TakeProfit(TradeSide entrySide, decimal fill, ExitLevel level, decimal tick)
        {
            return Level(entrySide, fill, level, tick, 1);
        }

        /// <summary>A trailing stop <paramref name="offset"/> behind the best price since the fill.</summary>
        public static decimal TrailingStop(TradeSide entrySide, decimal best, PriceOffset offset, decimal tick)
        {
            return Level(entrySide, best, ExitLevel.AtOffset(offset), tick, -1);
        }

        // direction: -1 toward a loss (stop), +1 toward a profit (target), seen from the entry's side
        static decimal Level(TradeSide entrySide, decimal reference, ExitLevel level, decimal tick, int direction)
        {
            if (level.Price.HasValue)
                return RoundToTick(level.Price.Value, tick);
            int sign = Sides.Sign(entrySide) * direction;
            decimal price = RoundToTick(reference + sign * Distance(level.Offset, reference, tick), tick);
            // rounding a small offset must not put the exit on (or through) the reference price
            decimal step = tick > 0 ? tick : 0m;
            if (sign < 0 && price > reference - step) price = reference - step;
            if (sign > 0 && price < reference + step) price = reference + step;
            return price;
        }

        /// <summary>Null when an exit at <paramref name="price"/> is on the right side of the fill, else why not.</summary>
        public static string WrongSide(string field, TradeSide entrySide, decimal fill, decimal price, int direction)
        {
            int sign = Sides.Sign(entrySide) * direction;
            if (sign < 0 && price >= fill)
                return field + ": " + Numbers.Text(price) + " is not below the entry's fill price " + Numbers.Text(fill);
            if (sign > 0 && price <= fill)
                return field + ": " + Numbers.Text(price) + " is not above the entry's fill price " + Numbers.Text(fill);
            return null;
        }
    }
}
