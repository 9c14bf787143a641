// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>Where replies for a port go: one per connection.</summary>
    public interface IReplySink
    {
        void Send(string line);
    }

    /// <summary>One port's trading: takes its lines, places them in the port's account through the gateway
    /// and answers with acks, order and position replies. Every method runs on the receiver's one
    /// <see cref="Mailbox"/> thread, so nothing here locks.</summary>
    public sealed partial class PortDesk : IDisposable
    {
        /// <summary>On a connection, the latest news of every order that changed within this long before the
        /// last connection ended (or since) is sent again: a reply written just before a connection broke may
        /// never have been read. As Station's resend_window_s: 600 s.</summary>
        public static readonly TimeSpan ResendWindow = TimeSpan.FromSeconds(600);

        // replaced whole by Reconfigure (on the desk's thread); read by the window through Settings
        volatile PortSettings settings;
        readonly IAccountGateway gateway;
        readonly RepeatStore seen;
        readonly Action<string> log;
        readonly LineHistory history = new LineHistory(200);
        readonly List<IReplySink> sinks = new List<IReplySink>();
        readonly RecentReplies recent = new RecentReplies(10000);
        // when the last connection ended (null while one is open, or before any)
        TimeSpan? lastDetached;
        bool everAttached;
        readonly Dictionary<IOrderHandle, TrackedOrder> byHandle = new Dictionary<IOrderHandle, TrackedOrder>();
        volatile int connections;

        public PortDesk(PortSettings settings, IAccountGateway gateway, RepeatStore seen, Action<string> log)
        {
            this.settings = settings;
            this.gateway = gateway;
            this.seen = seen;
            this.log = log;
        }

        public PortSettings Settings
        {
            get { return settings; }
        }

        /// <summary>New instrument map or ATM template for the same port and account (e.g. a futures roll):
        /// the desk keeps its connections and the orders it reports on.</summary>
        public void Reconfigure(PortSettings next)
        {
            if (next.Port != settings.Port || next.Account != settings.Account)
                throw new ArgumentException("a desk keeps its port and account");
            settings = next;
            history.Note("settings changed: ATM template '" + next.AtmTemplate + "', instruments " + InstrumentMapText.Format(next.Instruments));
        }

        public LineHistory History
        {
            get { return history; }
        }

        /// <summary>Open connections (read from any thread).</summary>
        public int Connections
        {
            get { return connections; }
        }

        public void Attach(IReplySink sink)
        {
            sinks.Add(sink);
            connections = sinks.Count;
            history.Note("connected (" + sinks.Count + ")");
            // Station reconciles from these: where each recent order stands, then every open position
            TimeSpan since = !everAttached ? TimeSpan.MinValue
                : lastDetached.HasValue ? lastDetached.Value - ResendWindow : recent.Now - ResendWindow;
            everAttached = true;
            lastDetached = null;
            foreach (string reply in recent.Since(since))
                Answer(sink, reply);
            try
            {
                if (!gateway.UseAccount(settings.Account))
                {
                    log("port " + settings.Port + ": account " + settings.Account + " is not available in NinjaTrader");
                    return;
                }
                foreach (PositionReport position in gateway.Positions(settings.Account))
                    Answer(sink, Replies.Position(settings.Account, position.Instrument, position.Qty, position.AveragePrice));
            }
            catch (Exception e)
            {
                log("port " + settings.Port + ": could not read the positions of " + settings.Account + ": " + e.Message);
            }
        }

        public void Detach(IReplySink sink)
        {
            if (!sinks.Remove(sink))
                return;
            connections = sinks.Count;
            if (sinks.Count == 0)
                lastDetached = recent.Now;
            history.Note("disconnected (" + sinks.Count + " left)");
        }

        /// <summary>A line that could not even be read as text.</summary>
        public void OnUnreadable(IReplySink from, string why)
        {
            history.Note("unreadable line: " + why);
            Answer(from, Replies.Rejected(null, why));
        }

        /// <summary>One line from a connection: dropped if its id was taken before, else acknowledged and
        /// carried out, or refused with the reason.</summary>
        public void OnLine(IReplySink from, string line)
        {
            history.Received(line);
            ParsedLine parsed = IntentParser.Parse(line);
            if (parsed.Id == null)
            {
                Answer(from, Replies.Rejected(null, parsed.Error));
                return;
            }
            if (seen.Contains(parsed.Id))
            {
                // acknowledged again, or Station would keep sending it; its orders' latest news follow
                Answer(from, Replies.Ack(parsed.Id));
                foreach (string reply in recent.Of(parsed.Id))
                    Answer(from, reply);
                history.Note("repeat of " + parsed.Id + " dropped");
                return;
            }
            try
            {
                seen.Add(parsed.Id);
            }
            catch (Exception e)
            {
                // not acknowledged: Station sends it again later, when the disk may take it
                Answer(from, Replies.Rejected(parsed.Id, "could not record the line's id, so nothing was placed: " + e.Message));
                return;
            }
            Answer(from, Replies.Ack(parsed.Id));
            if (parsed.Error != null)
            {
                PublishLine(parsed.Id, ReplyStatus.Rejected, 0, null, parsed.Error);
                return;
            }
            Carry(parsed.Intent);
        }

        void Carry(OrderIntent intent)
        {
            try
            {
                if (!gateway.UseAccount(settings.Account))
                {
                    Reject(intent, "account '" + settings.Account + "' is not available in NinjaTrader (is its connection up?)");
                    return;
                }
                string name = settings.InstrumentFor(intent.Ticker);
                InstrumentInfo instrument = gateway.FindInstrument(name);
                if (instrument == null)
                {
                    Reject(intent, "ticker: NinjaTrader knows no instrument '" + name + "'"
                        + (name == intent.Ticker ? " (map the ticker to one in the Station Receiver window)" : ""));
                    return;
                }
                switch (intent.Action)
                {
                    case LineAction.Buy: PlaceEntry(intent, TradeSide.Buy, instrument, null); break;
                    case LineAction.Sell: PlaceEntry(intent, TradeSide.Sell, instrument, null); break;
                    case LineAction.Exit: StartExit(intent, instrument); break;
                    case LineAction.Reverse: StartReverse(intent, instrument); break;
                    case LineAction.Cancel: StartCancel(intent, instrument); break;
                }
            }
            catch (Exception e)
            {
                log("port " + settings.Port + ": " + intent.Id + ": " + e);
                Reject(intent, "NinjaTrader refused it: " + e.Message);
            }
        }

        /// <summary>Places an entry (buy, sell, or a reverse's opening side); its exits wait for its fills.</summary>
        void PlaceEntry(OrderIntent intent, TradeSide side, InstrumentInfo instrument, string statusSoFar)
        {
            // the port's ATM template manages entries that bring no exits of their own
            bool atm = settings.AtmTemplate.Length > 0 && !intent.HasBracket;
            OrderSpec spec = new OrderSpec();
            spec.Account = settings.Account;
            spec.Instrument = instrument.Name;
            spec.Side = side;
            spec.Kind = intent.Kind;
            spec.Qty = intent.Qty;
            spec.LimitPrice = intent.LimitPrice;
            spec.StopPrice = intent.StopPrice;
            spec.Tif = intent.Tif;
            spec.Name = atm ? "Entry" : OrderNames.For("entry", intent.Strategy); // ATM entries must be named "Entry"
            IOrderHandle handle = gateway.CreateOrder(spec);
            TrackedOrder entry = Track(handle, intent.Id, intent, spec);
            entry.Status = statusSoFar;
            if (intent.HasBracket)
            {
                entry.Bracket = new Bracket();
                entry.Bracket.Intent = intent;
                entry.Bracket.EntrySide = side;
                entry.Bracket.Instrument = instrument;
            }
            if (intent.TrailingStop != null)
                gateway.WatchPrices(instrument.Name); // prices flowing before the fill: the trail starts at once
            try
            {
                if (!atm)
                    gateway.Submit(new List<IOrderHandle> { handle });
                else if (!gateway.StartAtm(settings.AtmTemplate, handle))
                {
                    byHandle.Remove(handle);
                    Reject(intent, "NinjaTrader could not start the ATM strategy template '" + settings.AtmTemplate + "'");
                }
            }
            catch (Exception)
            {
                byHandle.Remove(handle);
                throw;
            }
        }

        TrackedOrder Track(IOrderHandle handle, string replyId, OrderIntent intent, OrderSpec spec)
        {
            TrackedOrder order = new TrackedOrder();
            order.ReplyId = replyId;
            order.LineId = intent.Id;
            order.Strategy = intent.Strategy;
            order.Instrument = spec.Instrument;
            order.Handle = handle;
            order.Side = spec.Side;
            order.Qty = spec.Qty;
            order.LimitPrice = spec.LimitPrice;
            order.StopPrice = spec.StopPrice;
            byHandle[handle] = order;
            return order;
        }

        /// <summary>An order's news from the account: relayed to Station when it moves the order forward.</summary>
        public void OnOrderUpdate(OrderUpdate update)
        {
            TrackedOrder order;
            if (byHandle.TryGetValue(update.Handle, out order))
            {
                int filled = update.Status == ReplyStatus.Filled && update.Filled == 0 ? order.Qty : update.Filled;
                bool news = ReplyStatus.IsNews(order.Status, order.Filled, update.Status, filled);
                if (filled > order.Filled)
                    order.Filled = filled;
                if (update.AverageFillPrice.HasValue && update.AverageFillPrice.Value > 0)
                    order.AvgPrice = update.AverageFillPrice;
                if (news)
                {
                    order.Status = update.Status;
                    Publish(order, update.Reason);
                }
                if (order.Bracket != null && order.Filled > order.Bracket.Covered)
                    Protect(order);
                if (order.IsTerminal)
                    Ended(order);
            }
            OnCancelProgress(update);
        }

        void Ended(TrackedOrder order)
        {
            byHandle.Remove(order.Handle);
            if (order.Bracket != null && order.Bracket.Covered == 0)
                CancelPlannedExits(order);
            if (order.Group != null && order.Group.Trail != null && order.Group.Trail.Stop == order)
                trails.Remove(order.Group.Trail);
        }

        public void OnExecuted(ExecutionReport execution)
        {
            if (execution.Account == settings.Account)
                OnFlattenFill(execution);
        }

        public void OnPositionChanged(PositionReport position)
        {
            if (position.Account != settings.Account)
                return;
            // not kept for a later connection: a new connection gets every position at once
            Broadcast(Replies.Position(position.Account, position.Instrument, position.Qty, position.AveragePrice));
            OnFlattenProgress(position);
        }

        void Publish(TrackedOrder order, string reason)
        {
            string reply = Replies.Order(order.ReplyId, order.Status, order.Filled, order.AvgPrice, reason);
            recent.Remember(order.LineId, order.ReplyId, reply);
            Broadcast(reply);
        }

        /// <summary>A reply about a line itself (a refusal, an exit's or a cancel's outcome).</summary>
        void PublishLine(string lineId, string status, int filled, decimal? avgPrice, string reason)
        {
            PublishAs(lineId, lineId, status, filled, avgPrice, reason);
        }

        void PublishAs(string lineId, string replyId, string status, int filled, decimal? avgPrice, string reason)
        {
            string reply = Replies.Order(replyId, status, filled, avgPrice, reason);
            recent.Remember(lineId, replyId, reply);
            Broadcast(reply);
        }

        void Reject(OrderIntent intent, string reason)
        {
            PublishLine(intent.Id, ReplyStatus.Rejected, 0, null, reason);
        }

        void Answer(IReplySink to, string reply)
        {
            history.Sent(reply);
            to.Send(reply);
        }

        /// <summary>To every connection of the port; with none open, order news waits in <see cref="recent"/>.</summary>
        void Broadcast(string reply)
        {
            history.Sent(reply);
            foreach (IReplySink sink in sinks)
                sink.Send(reply);
        }

        public void Dispose()
        {
            seen.Dispose();
        }
    }
}
