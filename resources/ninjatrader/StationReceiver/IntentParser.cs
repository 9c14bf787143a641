// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>A line after parsing: an intent, or the reason it is refused (with its id when it had one).</summary>
    public sealed class ParsedLine
    {
        public string Id;
        public OrderIntent Intent;
        public string Error;
    }

    /// <summary>Turns one JSON line into an <see cref="OrderIntent"/>, refusing what CONTRACT.md refuses.
    /// Reasons name the field as sent, as the webhook's 400s do.</summary>
    public static class IntentParser
    {
        public const int MaxIdLength = 200;
        public const int MaxQty = 1000000;
        // "absurd numbers" are refused: no instrument trades above this price.
        public const decimal MaxPrice = 1000000000m;

        static readonly string[] Instructions = {
            "order_type", "limit_price", "stop_price", "tif", "stop_loss", "take_profit", "trailing_stop" };

        public static ParsedLine Parse(string line)
        {
            ParsedLine parsed = new ParsedLine();
            string error;
            IDictionary<string, object> obj = Json.ParseObject(line, out error);
            if (obj == null)
            {
                parsed.Error = "line is " + error;
                return parsed;
            }
            parsed.Id = ReadId(obj, out error);
            if (parsed.Id == null)
            {
                parsed.Error = error;
                return parsed;
            }
            OrderIntent intent = new OrderIntent();
            intent.Id = parsed.Id;
            parsed.Error = Fill(obj, intent);
            if (parsed.Error == null)
                parsed.Intent = intent;
            return parsed;
        }

        static string ReadId(IDictionary<string, object> obj, out string error)
        {
            error = null;
            object raw = Get(obj, "id");
            string id = raw as string;
            if (id == null || id.Length == 0)
                error = "id: must be a non-empty string";
            else if (id.Length > MaxIdLength)
                error = "id: longer than " + MaxIdLength + " characters";
            else
            {
                foreach (char c in id)
                    if (char.IsControl(c))
                    {
                        // the repeat store keeps one id a line: a line break inside one would split it
                        error = "id: contains a control character";
                        break;
                    }
            }
            return error == null ? id : null;
        }

        static string Fill(IDictionary<string, object> obj, OrderIntent intent)
        {
            string error;
            if (Get(obj, "ticker1") != null || Get(obj, "ticker2") != null)
                return "ticker: pair (spread) lines are not traded by the NinjaTrader receiver; route each leg's ticker to the port instead";

            intent.Ticker = Get(obj, "ticker") as string;
            if (intent.Ticker == null || intent.Ticker.Trim().Length == 0)
                return "ticker: must be a non-empty string";
            intent.Ticker = intent.Ticker.Trim();

            object strategy = Get(obj, "strategy");
            if (strategy != null && !(strategy is string))
                return "strategy: must be a string or null";
            intent.Strategy = strategy == null ? "" : (string)strategy;

            string action = Get(obj, "action") as string;
            if (action == null)
                return "action: must be one of buy, sell, exit, reverse, cancel";
            switch (action.Trim().ToLowerInvariant())
            {
                case "buy": intent.Action = LineAction.Buy; break;
                case "sell": intent.Action = LineAction.Sell; break;
                case "exit":
                case "close": intent.Action = LineAction.Exit; break;
                case "reverse": intent.Action = LineAction.Reverse; break;
                case "cancel": intent.Action = LineAction.Cancel; break;
                default: return "action: '" + action + "' is not one of buy, sell, exit, reverse, cancel";
            }

            if (Get(obj, "price") != null)
            {
                decimal price;
                if (!TryPrice(Get(obj, "price"), out price, out error))
                    return "price: " + error;
                intent.Price = price;
            }

            if (intent.Action == LineAction.Exit || intent.Action == LineAction.Cancel)
            {
                // the account says how much to close, and a cancel places nothing
                foreach (string field in Instructions)
                    if (Get(obj, field) != null)
                        return field + ": " + ActionWord(intent.Action) + " lines carry no order instructions";
                return null;
            }

            error = ReadQty(obj, intent);
            if (error != null) return error;
            error = ReadOrderType(obj, intent);
            if (error != null) return error;
            error = ReadTif(obj, intent);
            if (error != null) return error;
            error = ReadExits(obj, intent);
            if (error != null) return error;
            if (intent.Action == LineAction.Reverse)
                return null; // its side is known only once the position is: checked then
            return CheckExitSides(intent, intent.Action == LineAction.Buy ? TradeSide.Buy : TradeSide.Sell);
        }

        static string ActionWord(LineAction action)
        {
            return action.ToString().ToLowerInvariant();
        }

        static string ReadQty(IDictionary<string, object> obj, OrderIntent intent)
        {
            decimal qty;
            object raw = Get(obj, "qty");
            if (raw == null)
                return "qty: required";
            if (!Numbers.TryParse(raw, out qty))
                return "qty: must be a number";
            if (qty != decimal.Truncate(qty))
                return "qty: NinjaTrader trades whole quantities, got " + Numbers.Text(qty);
            if (qty < 1)
                return "qty: must be at least 1, got " + Numbers.Text(qty);
            if (qty > MaxQty)
                return "qty: more than " + MaxQty;
            intent.Qty = (int)qty;
            return null;
        }

        static string ReadOrderType(IDictionary<string, object> obj, OrderIntent intent)
        {
            object raw = Get(obj, "order_type");
            string kind = raw == null ? "market" : (raw as string);
            if (kind == null)
                return "order_type: must be one of market, limit, stop, stop_limit";
            switch (kind.Trim().ToLowerInvariant())
            {
                case "market": intent.Kind = OrderKind.Market; break;
                case "limit": intent.Kind = OrderKind.Limit; break;
                case "stop": intent.Kind = OrderKind.Stop; break;
                case "stop_limit": intent.Kind = OrderKind.StopLimit; break;
                default: return "order_type: '" + kind + "' is not one of market, limit, stop, stop_limit";
            }
            bool takesLimit = intent.Kind == OrderKind.Limit || intent.Kind == OrderKind.StopLimit;
            bool takesStop = intent.Kind == OrderKind.Stop || intent.Kind == OrderKind.StopLimit;
            string error = ReadTypePrice(obj, "limit_price", takesLimit, intent.Kind, out intent.LimitPrice);
            if (error != null) return error;
            return ReadTypePrice(obj, "stop_price", takesStop, intent.Kind, out intent.StopPrice);
        }

        static string ReadTypePrice(IDictionary<string, object> obj, string field, bool takes, OrderKind kind, out decimal? value)
        {
            value = null;
            object raw = Get(obj, field);
            string typeName = KindName(kind);
            if (raw == null)
                return takes ? field + ": a " + typeName + " order needs it" : null;
            if (!takes)
                return field + ": a " + typeName + " order takes none";
            decimal price;
            string error;
            if (!TryPrice(raw, out price, out error))
                return field + ": " + error;
            value = price;
            return null;
        }

        public static string KindName(OrderKind kind)
        {
            switch (kind)
            {
                case OrderKind.Limit: return "limit";
                case OrderKind.Stop: return "stop";
                case OrderKind.StopLimit: return "stop_limit";
                default: return "market";
            }
        }

        static string ReadTif(IDictionary<string, object> obj, OrderIntent intent)
        {
            object raw = Get(obj, "tif");
            if (raw == null)
                return null;
            string tif = raw as string;
            switch (tif == null ? "" : tif.Trim().ToLowerInvariant())
            {
                case "day": intent.Tif = TifKind.Day; return null;
                case "gtc": intent.Tif = TifKind.Gtc; return null;
                default: return "tif: must be day or gtc";
            }
        }

        static string ReadExits(IDictionary<string, object> obj, OrderIntent intent)
        {
            string error;
            intent.StopLoss = ReadLevel(obj, "stop_loss", out error);
            if (error != null) return error;
            intent.TakeProfit = ReadLevel(obj, "take_profit", out error);
            if (error != null) return error;
            object trailing = Get(obj, "trailing_stop");
            if (trailing == null)
                return null;
            IDictionary<string, object> offset = trailing as IDictionary<string, object>;
            if (offset == null)
                return "trailing_stop: must be {\"ticks\": N}, {\"points\": X} or {\"percent\": P}";
            intent.TrailingStop = ReadOffset(offset, "trailing_stop", out error);
            if (error != null) return error;
            if (intent.StopLoss != null)
                return "trailing_stop: not together with stop_loss";
            return null;
        }

        static ExitLevel ReadLevel(IDictionary<string, object> obj, string field, out string error)
        {
            error = null;
            object raw = Get(obj, field);
            if (raw == null)
                return null;
            IDictionary<string, object> offset = raw as IDictionary<string, object>;
            if (offset != null)
            {
                PriceOffset parsed = ReadOffset(offset, field, out error);
                return parsed == null ? null : ExitLevel.AtOffset(parsed);
            }
            decimal price;
            if (!TryPrice(raw, out price, out error))
            {
                error = field + ": " + error + ", or an offset {\"ticks\": N}, {\"points\": X}, {\"percent\": P}";
                return null;
            }
            return ExitLevel.AtPrice(price);
        }

        static PriceOffset ReadOffset(IDictionary<string, object> offset, string field, out string error)
        {
            error = null;
            if (offset.Count != 1)
            {
                error = field + ": give exactly one of ticks, points or percent";
                return null;
            }
            string key = null;
            object raw = null;
            foreach (KeyValuePair<string, object> pair in offset)
            {
                key = pair.Key;
                raw = pair.Value;
            }
            OffsetUnit unit;
            switch (key)
            {
                case "ticks": unit = OffsetUnit.Ticks; break;
                case "points": unit = OffsetUnit.Points; break;
                case "percent": unit = OffsetUnit.Percent; break;
                default:
                    error = field + ": unknown key '" + key + "' (use ticks, points or percent)";
                    return null;
            }
            decimal value;
            if (raw == null || !Numbers.TryParse(raw, out value))
            {
                error = field + "." + key + ": must be a number";
                return null;
            }
            if (value <= 0)
            {
                error = field + "." + key + ": must be greater than 0, got " + Numbers.Text(value);
                return null;
            }
            if (unit == OffsetUnit.Ticks && value != decimal.Truncate(value))
            {
                error = field + ".ticks: must be a whole number of ticks, got " + Numbers.Text(value);
                return null;
            }
            if (unit == OffsetUnit.Percent && value >= 100)
            {
                error = field + ".percent: must be below 100, got " + Numbers.Text(value);
                return null;
            }
            if (value > MaxPrice)
            {
                error = field + "." + key + ": " + Numbers.Text(value) + " is absurd";
                return null;
            }
            return new PriceOffset(unit, value);
        }

        /// <summary>Null when the absolute exits sit on the right side of the entry's reference price for
        /// <paramref name="side"/>: the limit price of a limit entry, else the alert's price; otherwise why not.</summary>
        public static string CheckExitSides(OrderIntent intent, TradeSide side)
        {
            decimal? reference = null;
            string what = null;
            if (intent.Kind == OrderKind.Limit || intent.Kind == OrderKind.StopLimit)
            {
                reference = intent.LimitPrice;
                what = "the " + Sides.Word(side) + "'s limit price";
            }
            else if (intent.Price.HasValue)
            {
                reference = intent.Price;
                what = "the alert's price";
            }
            if (!reference.HasValue)
                return null;
            string error = CheckSide("stop_loss", intent.StopLoss, side == TradeSide.Buy ? -1 : 1, reference.Value, what);
            if (error != null) return error;
            return CheckSide("take_profit", intent.TakeProfit, side == TradeSide.Buy ? 1 : -1, reference.Value, what);
        }

        static string CheckSide(string field, ExitLevel level, int direction, decimal reference, string what)
        {
            if (level == null || !level.Price.HasValue)
                return null;
            decimal price = level.Price.Value;
            if (direction < 0 && price >= reference)
                return field + ": " + Numbers.Text(price) + " is not below " + what + " " + Numbers.Text(reference);
            if (direction > 0 && price <= reference)
                return field + ": " + Numbers.Text(price) + " is not above " + what + " " + Numbers.Text(reference);
            return null;
        }

        static object Get(IDictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value : null;
        }

        static bool TryPrice(object raw, out decimal price, out string error)
        {
            error = null;
            if (!Numbers.TryParse(raw, out price))
            {
                error = "must be a number";
                return false;
            }
            if (price <= 0)
                error = "must be a positive price, got " + Numbers.Text(price);
            else if (price > MaxPrice)
                error = Numbers.Text(price) + " is absurd";
            return error == null;
        }
    }
}
