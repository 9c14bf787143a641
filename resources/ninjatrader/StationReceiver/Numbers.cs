// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Globalization;

namespace StationReceiver
{
    /// <summary>Numbers as lines carry them and as replies and reasons show them.</summary>
    public static class Numbers
    {
        /// <summary>A JSON number, or a string holding one (alerts may send numbers as strings); never NaN or infinite.</summary>
        public static bool TryParse(object raw, out decimal value)
        {
            value = 0;
            if (raw is int) { value = (int)raw; return true; }
            if (raw is long) { value = (long)raw; return true; }
            if (raw is decimal) { value = (decimal)raw; return true; }
            if (raw is double)
            {
                double d = (double)raw;
                if (double.IsNaN(d) || double.IsInfinity(d) || Math.Abs(d) > 1e20)
                    return false;
                value = (decimal)d;
                return true;
            }
            string text = raw as string;
            if (text == null)
                return false;
            return decimal.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }

        /// <summary>A number for a reason text: invariant culture, no trailing zeros.</summary>
        public static string Text(decimal value)
        {
            return Plain(value).ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>The same value without trailing zeros (5000.250 -> 5000.25), so JSON shows the plain number.</summary>
        public static decimal Plain(decimal value)
        {
            return value / 1.000000000000000000000000000000000m;
        }
    }
}
