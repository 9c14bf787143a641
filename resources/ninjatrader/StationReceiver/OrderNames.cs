// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System.Text;

namespace StationReceiver
{
    /// <summary>Names of the orders the receiver places: <c>STN &lt;role&gt; &lt;strategy tag&gt;</c>, so a cancel
    /// finds a strategy's working orders in NinjaTrader even after a restart (names hold 50 characters at most,
    /// too few for a strategy's name, hence a tag).</summary>
    public static class OrderNames
    {
        const string Prefix = "STN ";

        /// <summary>Eight hex digits of FNV-1a over the strategy's UTF-8 bytes: stable across runs and runtimes,
        /// unlike string.GetHashCode.</summary>
        public static string Tag(string strategy)
        {
            uint hash = 2166136261;
            foreach (byte b in Encoding.UTF8.GetBytes(strategy ?? ""))
            {
                hash ^= b;
                hash = unchecked(hash * 16777619);
            }
            return hash.ToString("x8");
        }

        public static string For(string role, string strategy)
        {
            return Prefix + role + " " + Tag(strategy);
        }

        public static bool Belongs(string name, string strategy)
        {
            return name != null && name.StartsWith(Prefix) && name.EndsWith(" " + Tag(strategy));
        }
    }
}
