// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>Brackets: an entry's exits are held until it fills, sized to what filled, one OCO group.</summary>
    public sealed partial class PortDesk
    {
        readonly List<Trail> trails = new List<Trail>();

        /// <summary>Covers the entry's new fills with exits: a new OCO group, or the open group grown.</summary>
        void Protect(TrackedOrder entry)
        {
            Bracket bracket = entry.Bracket;
            int added = entry.Filled - bracket.Covered;
            if (added <= 0)
                return;
            bracket.Covered = entry.Filled;
            ExitGroup group = bracket.Current;
            if (group != null && group.Open)
            {
                group.Qty += added;
                foreach (TrackedOrder leg in group.Legs)
                {
                    leg.Qty = group.Qty;
                    gateway.Change(leg.Handle, group.Qty, null, null);
                }
                return;
            }
            if (!entry.AvgPrice.HasValue)
            {
                log("port " + settings.Port + ": " + entry.ReplyId + " filled without a fill price; exits not placed");
                return;
            }
            PlaceGroup(entry, added, entry.AvgPrice.Value);
        }

        void PlaceGroup(TrackedOrder entry, int qty, decimal fill)
        {
            Bracket bracket = entry.Bracket;
            OrderIntent intent = bracket.Intent;
            decimal tick = bracket.Instrument.TickSize;
            bracket.Groups++;
            // a second group (the first one ended while the entry still filled) gets ids of its own
            string suffix = bracket.Groups == 1 ? "" : "-" + bracket.Groups;
            ExitGroup group = new ExitGroup();
            group.Qty = qty;
            List<PlannedLeg> legs = new List<PlannedLeg>();

            if (intent.TakeProfit != null)
            {
                decimal price = BracketMath.TakeProfit(bracket.EntrySide, fill, intent.TakeProfit, tick);
                AddLeg(legs, entry, "-tp" + suffix, "tp", OrderKind.Limit, price, qty,
                    intent.TakeProfit.Price.HasValue ? BracketMath.WrongSide("take_profit", bracket.EntrySide, fill, price, 1) : null);
            }
            if (intent.StopLoss != null)
            {
                decimal price = BracketMath.StopLoss(bracket.EntrySide, fill, intent.StopLoss, tick);
                AddLeg(legs, entry, "-sl" + suffix, "sl", OrderKind.Stop, price, qty,
                    intent.StopLoss.Price.HasValue ? BracketMath.WrongSide("stop_loss", bracket.EntrySide, fill, price, -1) : null);
            }
            if (intent.TrailingStop != null)
            {
                decimal price = BracketMath.TrailingStop(bracket.EntrySide, fill, intent.TrailingStop, tick);
                AddLeg(legs, entry, "-trail" + suffix, "trail", OrderKind.Stop, price, qty, null);
            }
            if (legs.Count == 0)
                return;

            string oco = legs.Count > 1 ? "STN" + Guid.NewGuid().ToString("N").Substring(0, 20) : "";
            List<IOrderHandle> handles = new List<IOrderHandle>();
            foreach (PlannedLeg leg in legs)
            {
                leg.Spec.Oco = oco;
                IOrderHandle handle = gateway.CreateOrder(leg.Spec);
                TrackedOrder order = Track(handle, leg.ReplyId, intent, leg.Spec);
                order.Group = group;
                group.Legs.Add(order);
                handles.Add(handle);
                if (leg.IsTrail)
                {
                    group.Trail = new Trail();
                    group.Trail.Stop = order;
                    group.Trail.EntrySide = bracket.EntrySide;
                    group.Trail.Offset = intent.TrailingStop;
                    group.Trail.Tick = tick;
                    group.Trail.Best = fill;
                }
            }
            bracket.Current = group;
            if (group.Trail != null)
                trails.Add(group.Trail);
            gateway.Submit(handles);
        }

        sealed class PlannedLeg
        {
            public string ReplyId;
            public OrderSpec Spec;
            public bool IsTrail;
        }

        void AddLeg(List<PlannedLeg> legs, TrackedOrder entry, string idSuffix, string role,
            OrderKind kind, decimal price, int qty, string wrongSide)
        {
            string replyId = entry.LineId + idSuffix;
            if (wrongSide != null)
            {
                // an absolute exit the fill has passed would fill (or be refused) at once: refused here, visibly
                PublishAs(entry.LineId, replyId, ReplyStatus.Rejected, 0, null, wrongSide);
                return;
            }
            OrderSpec spec = new OrderSpec();
            spec.Account = settings.Account;
            spec.Instrument = entry.Bracket.Instrument.Name;
            spec.Side = Sides.Opposite(entry.Bracket.EntrySide);
            spec.Kind = kind;
            spec.Qty = qty;
            if (kind == OrderKind.Limit) spec.LimitPrice = price;
            else spec.StopPrice = price;
            spec.Tif = entry.Bracket.Intent.Tif; // as Station's own bracket legs: the entry's time in force
            spec.Name = OrderNames.For(role, entry.Strategy);
            PlannedLeg leg = new PlannedLeg();
            leg.ReplyId = replyId;
            leg.Spec = spec;
            leg.IsTrail = role == "trail";
            legs.Add(leg);
        }

        /// <summary>An entry that ended without any fill takes its planned exits with it.</summary>
        void CancelPlannedExits(TrackedOrder entry)
        {
            OrderIntent intent = entry.Bracket.Intent;
            string reason = "its entry was " + entry.Status + " before it filled";
            if (intent.TakeProfit != null)
                PublishAs(entry.LineId, entry.LineId + "-tp", ReplyStatus.Cancelled, 0, null, reason);
            if (intent.StopLoss != null)
                PublishAs(entry.LineId, entry.LineId + "-sl", ReplyStatus.Cancelled, 0, null, reason);
            if (intent.TrailingStop != null)
                PublishAs(entry.LineId, entry.LineId + "-trail", ReplyStatus.Cancelled, 0, null, reason);
        }

        /// <summary>A trade price: trailing stops in that instrument follow a new best price.</summary>
        public void OnLastPrice(PriceTick tick)
        {
            foreach (Trail trail in trails.ToArray())
            {
                TrackedOrder stop = trail.Stop;
                if (stop.Instrument != tick.Instrument || stop.IsTerminal || !stop.StopPrice.HasValue)
                    continue;
                bool better = trail.EntrySide == TradeSide.Buy ? tick.Price > trail.Best : tick.Price < trail.Best;
                if (!better)
                    continue;
                trail.Best = tick.Price;
                decimal next = BracketMath.TrailingStop(trail.EntrySide, trail.Best, trail.Offset, trail.Tick);
                bool tighter = trail.EntrySide == TradeSide.Buy ? next > stop.StopPrice.Value : next < stop.StopPrice.Value;
                if (!tighter)
                    continue;
                stop.StopPrice = next;
                try
                {
                    gateway.Change(stop.Handle, stop.Qty, null, next);
                }
                catch (Exception e)
                {
                    log("port " + settings.Port + ": could not move trailing stop " + stop.ReplyId + ": " + e.Message);
                }
            }
        }
    }
}
