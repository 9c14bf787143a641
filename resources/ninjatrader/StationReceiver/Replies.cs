// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>The lines the receiver answers with, exactly as CONTRACT.md ("NinjaTrader") spells them.</summary>
    public static class Replies
    {
        public static string Ack(string id)
        {
            Dictionary<string, object> reply = new Dictionary<string, object>();
            reply["type"] = "ack";
            reply["id"] = id;
            return Json.Write(reply);
        }

        public static string Order(string id, string status, int filledQty, decimal? avgPrice, string reason)
        {
            Dictionary<string, object> reply = new Dictionary<string, object>();
            reply["type"] = "order";
            reply["id"] = id;
            reply["status"] = status;
            reply["filled_qty"] = filledQty;
            reply["avg_price"] = Plain(avgPrice);
            reply["reason"] = reason;
            return Json.Write(reply);
        }

        /// <summary>A refused line; <paramref name="id"/> is null when the line had no usable id.</summary>
        public static string Rejected(string id, string reason)
        {
            return Order(id, ReplyStatus.Rejected, 0, null, reason);
        }

        /// <summary>An account's position in one instrument: <paramref name="qty"/> signed, short negative.</summary>
        public static string Position(string account, string instrument, int qty, decimal? avgPrice)
        {
            Dictionary<string, object> reply = new Dictionary<string, object>();
            reply["type"] = "position";
            reply["account"] = account;
            reply["instrument"] = instrument;
            reply["qty"] = qty;
            reply["avg_price"] = qty == 0 ? null : Plain(avgPrice);
            return Json.Write(reply);
        }

        static object Plain(decimal? value)
        {
            if (!value.HasValue)
                return null;
            return Numbers.Plain(value.Value);
        }
    }

    /// <summary>The REST order statuses the contract's order replies take, and the order they come in.</summary>
    public static class ReplyStatus
    {
        public const string New = "new";
        public const string Submitted = "submitted";
        public const string Working = "working";
        public const string PartiallyFilled = "partially_filled";
        public const string Filled = "filled";
        public const string Cancelled = "cancelled";
        public const string Rejected = "rejected";

        public static bool IsTerminal(string status)
        {
            return status == Filled || status == Cancelled || status == Rejected;
        }

        static int Rank(string status)
        {
            switch (status)
            {
                case New: return 0;
                case Submitted: return 1;
                case Working: return 2;
                case PartiallyFilled: return 3;
                case Filled:
                case Cancelled:
                case Rejected: return 4;
                default: return -1;
            }
        }

        /// <summary>Whether an update is news for Station: statuses only move forward (Station's order
        /// transitions refuse e.g. working after partially_filled), and a further partial fill is news.</summary>
        public static bool IsNews(string last, int lastFilled, string status, int filled)
        {
            if (status == null || IsTerminal(last))
                return false;
            if (last == null || Rank(status) > Rank(last))
                return true;
            return status == PartiallyFilled && filled > lastFilled;
        }

        /// <summary>The reply status for a NinjaTrader <c>OrderState</c>, by its name; null for states that say
        /// nothing yet (Initialized, Unknown). Keyed by name so this stays testable without NinjaTrader.</summary>
        public static string FromNinjaTraderState(string orderState)
        {
            switch (orderState)
            {
                case "Submitted":
                case "AcceptedByRisk":
                    return Submitted;
                // a stop held at the broker may stay Accepted (NinjaTrader help, Order): it is working
                case "Accepted":
                case "Working":
                case "TriggerPending":
                case "ChangePending":
                case "ChangeSubmitted":
                case "CancelPending":
                case "CancelSubmitted":
                case "Suspended":
                    return Working;
                case "PartFilled": return PartiallyFilled;
                case "Filled": return Filled;
                case "Cancelled": return Cancelled;
                case "Rejected": return Rejected;
                default: return null;
            }
        }
    }
}
