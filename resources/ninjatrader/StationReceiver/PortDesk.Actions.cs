// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>Exit, reverse and cancel lines.</summary>
    public sealed partial class PortDesk
    {
        readonly List<FlattenJob> flattens = new List<FlattenJob>();
        readonly List<CancelJob> cancels = new List<CancelJob>();

        /// <summary>Exit: NinjaTrader flattens the instrument in the account (closing the position and
        /// cancelling its working orders, ATM stops and targets included); the line is filled once flat.</summary>
        void StartExit(OrderIntent intent, InstrumentInfo instrument)
        {
            PositionReport position = gateway.Position(settings.Account, instrument.Name);
            if (position == null || position.Qty == 0)
            {
                Reject(intent, "no position in " + instrument.Name + " to exit in " + settings.Account);
                return;
            }
            Flatten(intent, instrument, position, null);
        }

        /// <summary>Reverse: flatten as for an exit, then open the other side with the line's quantity
        /// (and its order type and exits), so the position's protective orders go with the old side.</summary>
        void StartReverse(OrderIntent intent, InstrumentInfo instrument)
        {
            PositionReport position = gateway.Position(settings.Account, instrument.Name);
            if (position == null || position.Qty == 0)
            {
                Reject(intent, "no position in " + instrument.Name + " to reverse in " + settings.Account);
                return;
            }
            TradeSide open = position.Qty > 0 ? TradeSide.Sell : TradeSide.Buy;
            string wrong = IntentParser.CheckExitSides(intent, open);
            if (wrong != null)
            {
                Reject(intent, wrong);
                return;
            }
            Flatten(intent, instrument, position, open);
        }

        void Flatten(OrderIntent intent, InstrumentInfo instrument, PositionReport position, TradeSide? reopen)
        {
            FlattenJob job = new FlattenJob();
            job.Intent = intent;
            job.Instrument = instrument;
            job.StartQty = position.Qty;
            job.Closing = position.Qty > 0 ? TradeSide.Sell : TradeSide.Buy;
            job.Reopen = reopen;
            flattens.Add(job);
            PublishLine(intent.Id, ReplyStatus.Submitted, 0, null, null);
            gateway.Flatten(settings.Account, instrument.Name);
        }

        /// <summary>Fills of NinjaTrader's own closing order (not one of ours) give the exit its price.</summary>
        void OnFlattenFill(ExecutionReport execution)
        {
            if (execution.Handle != null && byHandle.ContainsKey(execution.Handle))
                return;
            foreach (FlattenJob job in flattens)
                if (job.Instrument.Name == execution.Instrument && job.Closing == execution.Side)
                {
                    job.Filled += execution.Qty;
                    job.Notional += execution.Qty * execution.Price;
                }
        }

        void OnFlattenProgress(PositionReport position)
        {
            foreach (FlattenJob job in flattens.ToArray())
            {
                if (job.Instrument.Name != position.Instrument)
                    continue;
                // done once flat, or (a fill raced the flatten) once on the other side
                if (position.Qty != 0 && Math.Sign(position.Qty) == Math.Sign(job.StartQty))
                    continue;
                flattens.Remove(job);
                if (job.Reopen.HasValue)
                {
                    try
                    {
                        PlaceEntry(job.Intent, job.Reopen.Value, job.Instrument, ReplyStatus.Submitted);
                    }
                    catch (Exception e)
                    {
                        log("port " + settings.Port + ": " + job.Intent.Id + ": " + e);
                        Reject(job.Intent, "flat, but NinjaTrader refused the opening order: " + e.Message);
                    }
                    continue;
                }
                int closed = Math.Abs(job.StartQty);
                decimal? price = null;
                if (job.Filled > 0)
                    price = job.Notional / job.Filled;
                PublishLine(job.Intent.Id, ReplyStatus.Filled, closed, price, null);
            }
        }

        /// <summary>Cancel: the strategy's working orders in the instrument, found by their names (also
        /// orders placed before a restart) and among this session's orders (ATM entries are named "Entry").</summary>
        void StartCancel(OrderIntent intent, InstrumentInfo instrument)
        {
            CancelJob job = new CancelJob();
            job.LineId = intent.Id;
            foreach (IOrderHandle handle in gateway.WorkingOrders(settings.Account, instrument.Name))
                if (OrderNames.Belongs(handle.Name, intent.Strategy))
                    job.Pending.Add(handle);
            foreach (TrackedOrder order in byHandle.Values)
                if (order.Strategy == intent.Strategy && order.Instrument == instrument.Name && !order.IsTerminal)
                    job.Pending.Add(order.Handle);
            if (job.Pending.Count == 0)
            {
                Reject(intent, "no working orders of " + StrategyName(intent.Strategy) + " in " + instrument.Name);
                return;
            }
            cancels.Add(job);
            PublishLine(intent.Id, ReplyStatus.Submitted, 0, null, null);
            gateway.Cancel(new List<IOrderHandle>(job.Pending));
        }

        static string StrategyName(string strategy)
        {
            return strategy.Length == 0 ? "lines without a strategy" : strategy;
        }

        void OnCancelProgress(OrderUpdate update)
        {
            if (!ReplyStatus.IsTerminal(update.Status))
                return;
            foreach (CancelJob job in cancels.ToArray())
            {
                if (!job.Pending.Remove(update.Handle))
                    continue;
                if (update.Status == ReplyStatus.Cancelled) job.Cancelled++;
                else if (update.Status == ReplyStatus.Filled) job.Filled++;
                else job.Other++;
                if (job.Pending.Count > 0)
                    continue;
                cancels.Remove(job);
                string reason = "cancelled " + job.Cancelled + " working order(s)";
                if (job.Filled > 0)
                    reason += "; " + job.Filled + " filled before the cancel reached it";
                if (job.Other > 0)
                    reason += "; " + job.Other + " rejected";
                PublishLine(job.LineId, ReplyStatus.Cancelled, 0, null, reason);
            }
        }
    }
}
