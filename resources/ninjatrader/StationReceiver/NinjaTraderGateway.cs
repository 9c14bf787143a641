// Station Receiver for NinjaTrader 8: the one file that trades through NinjaTrader's account API.
// Calls as documented in the NinjaTrader 8 help guide (Add On > Account: CreateOrder, Submit, Cancel,
// Change, Flatten, Orders, Positions, OrderUpdate, ExecutionUpdate, PositionUpdate; Instrument:
// GetInstrument, MasterInstrument.TickSize; MarketData.Update; AtmStrategy.StartAtmStrategy).
using System;
using System.Collections.Generic;
using System.Linq;
using NinjaTrader.Cbi;
using NinjaTrader.Data;

namespace StationReceiver
{
    /// <summary><see cref="IAccountGateway"/> over NinjaTrader.Cbi.Account.</summary>
    public sealed class NinjaTraderGateway : IAccountGateway, IDisposable
    {
        sealed class Handle : IOrderHandle
        {
            public readonly Order Order;

            public Handle(Order order)
            {
                Order = order;
            }

            public string Name
            {
                get { return Order.Name; }
            }
        }

        readonly object gate = new object();
        // the same Order is always the same handle, so the desk recognises NinjaTrader's events about it
        readonly Dictionary<Order, Handle> handles = new Dictionary<Order, Handle>();
        readonly List<Account> accounts = new List<Account>();
        readonly List<Instrument> watched = new List<Instrument>();

        public event Action<OrderUpdate> OrderUpdated;
        public event Action<ExecutionReport> Executed;
        public event Action<PositionReport> PositionChanged;
        public event Action<PriceTick> LastPrice;

        static Account FindAccount(string name)
        {
            lock (Account.All)
                return Account.All.FirstOrDefault(a => a.Name == name);
        }

        Account Require(string name)
        {
            Account account = FindAccount(name);
            if (account == null)
                throw new InvalidOperationException("account '" + name + "' is not available in NinjaTrader");
            return account;
        }

        public bool UseAccount(string name)
        {
            Account account = FindAccount(name);
            if (account == null)
                return false;
            lock (gate)
            {
                if (accounts.Contains(account))
                    return true;
                accounts.Add(account);
            }
            account.OrderUpdate += OnOrderUpdate;
            account.ExecutionUpdate += OnExecutionUpdate;
            account.PositionUpdate += OnPositionUpdate;
            return true;
        }

        public InstrumentInfo FindInstrument(string name)
        {
            Instrument instrument = Instrument.GetInstrument(name);
            if (instrument == null)
                return null;
            InstrumentInfo info = new InstrumentInfo();
            info.Name = instrument.FullName;
            info.TickSize = Decimal(instrument.MasterInstrument.TickSize) ?? 0m;
            return info;
        }

        public IOrderHandle CreateOrder(OrderSpec spec)
        {
            Account account = Require(spec.Account);
            Instrument instrument = Instrument.GetInstrument(spec.Instrument);
            if (instrument == null)
                throw new InvalidOperationException("NinjaTrader knows no instrument '" + spec.Instrument + "'");
            Order order = account.CreateOrder(instrument,
                spec.Side == TradeSide.Buy ? OrderAction.Buy : OrderAction.Sell,
                ToOrderType(spec.Kind),
                OrderEntry.Automated, // CME tag 1028: placed by a program, not by hand
                spec.Tif == TifKind.Gtc ? TimeInForce.Gtc : TimeInForce.Day,
                spec.Qty,
                spec.LimitPrice.HasValue ? (double)spec.LimitPrice.Value : 0,
                spec.StopPrice.HasValue ? (double)spec.StopPrice.Value : 0,
                spec.Oco ?? string.Empty,
                spec.Name,
                NinjaTrader.Core.Globals.MaxDate,
                null);
            return Wrap(order);
        }

        static OrderType ToOrderType(OrderKind kind)
        {
            switch (kind)
            {
                case OrderKind.Limit: return OrderType.Limit;
                case OrderKind.Stop: return OrderType.StopMarket;
                case OrderKind.StopLimit: return OrderType.StopLimit;
                default: return OrderType.Market;
            }
        }

        Handle Wrap(Order order)
        {
            lock (gate)
            {
                Handle handle;
                if (!handles.TryGetValue(order, out handle))
                {
                    handle = new Handle(order);
                    handles[order] = handle;
                }
                return handle;
            }
        }

        static IEnumerable<IGrouping<Account, Order>> ByAccount(IList<IOrderHandle> orders)
        {
            return orders.Select(h => ((Handle)h).Order).GroupBy(o => o.Account);
        }

        public void Submit(IList<IOrderHandle> orders)
        {
            foreach (IGrouping<Account, Order> group in ByAccount(orders))
                group.Key.Submit(group.ToArray());
        }

        public bool StartAtm(string template, IOrderHandle entry)
        {
            // submits the entry; the template's stops and targets follow its fill
            return NinjaTrader.NinjaScript.AtmStrategy.StartAtmStrategy(template, ((Handle)entry).Order) != null;
        }

        public void Cancel(IList<IOrderHandle> orders)
        {
            foreach (IGrouping<Account, Order> group in ByAccount(orders))
                group.Key.Cancel(group.ToArray());
        }

        public void Change(IOrderHandle handle, int qty, decimal? limitPrice, decimal? stopPrice)
        {
            Order order = ((Handle)handle).Order;
            order.QuantityChanged = qty;
            order.LimitPriceChanged = limitPrice.HasValue ? (double)limitPrice.Value : order.LimitPrice;
            order.StopPriceChanged = stopPrice.HasValue ? (double)stopPrice.Value : order.StopPrice;
            order.Account.Change(new[] { order });
        }

        public void Flatten(string account, string instrument)
        {
            Instrument found = Instrument.GetInstrument(instrument);
            if (found == null)
                throw new InvalidOperationException("NinjaTrader knows no instrument '" + instrument + "'");
            Require(account).Flatten(new[] { found });
        }

        public PositionReport Position(string account, string instrument)
        {
            Account found = Require(account);
            lock (found.Positions)
                foreach (Position position in found.Positions)
                    if (position.Instrument.FullName == instrument)
                        return Report(found.Name, instrument, position.MarketPosition, position.Quantity, position.AveragePrice);
            return Report(found.Name, instrument, MarketPosition.Flat, 0, 0);
        }

        public IList<PositionReport> Positions(string account)
        {
            Account found = Require(account);
            List<PositionReport> result = new List<PositionReport>();
            lock (found.Positions)
                foreach (Position position in found.Positions)
                    if (position.MarketPosition != MarketPosition.Flat)
                        result.Add(Report(found.Name, position.Instrument.FullName, position.MarketPosition, position.Quantity, position.AveragePrice));
            return result;
        }

        public IList<IOrderHandle> WorkingOrders(string account, string instrument)
        {
            Account found = Require(account);
            List<Order> working = new List<Order>();
            lock (found.Orders)
                foreach (Order order in found.Orders)
                    if (order.Instrument.FullName == instrument && order.OrderState != OrderState.Initialized
                        && !Order.IsTerminalState(order.OrderState))
                        working.Add(order);
            // wrapped, so their cancellation is heard as for orders placed this session
            return working.Select(o => (IOrderHandle)Wrap(o)).ToList();
        }

        public void WatchPrices(string instrument)
        {
            Instrument found = Instrument.GetInstrument(instrument);
            if (found == null)
                return;
            lock (gate)
            {
                if (watched.Contains(found))
                    return;
                watched.Add(found);
            }
            // subscribed on the instrument's own thread, as the help's MarketData example does
            if (!found.Dispatcher.HasShutdownStarted)
                found.Dispatcher.InvokeAsync(() => found.MarketData.Update += OnMarketData);
        }

        void OnOrderUpdate(object sender, OrderEventArgs e)
        {
            Handle handle;
            lock (gate)
            {
                if (!handles.TryGetValue(e.Order, out handle))
                    return; // not an order of ours (a manual one, an ATM's stop)
                if (Order.IsTerminalState(e.OrderState))
                    handles.Remove(e.Order);
            }
            OrderUpdate update = new OrderUpdate();
            update.Handle = handle;
            update.Status = ReplyStatus.FromNinjaTraderState(e.OrderState.ToString());
            update.Filled = e.Filled;
            update.AverageFillPrice = e.Filled > 0 ? Decimal(e.AverageFillPrice) : null;
            if (update.Status == ReplyStatus.Rejected || update.Status == ReplyStatus.Cancelled)
                update.Reason = string.IsNullOrEmpty(e.Comment) ? (e.Error == ErrorCode.NoError ? null : e.Error.ToString()) : e.Comment;
            Action<OrderUpdate> handler = OrderUpdated;
            if (handler != null)
                handler(update);
        }

        void OnExecutionUpdate(object sender, ExecutionEventArgs e)
        {
            // amended or removed executions (by the broker's back office) are not new fills
            if (e.Operation != Operation.Add || e.Execution == null)
                return;
            Handle handle = null;
            if (e.Execution.Order != null)
                lock (gate)
                    handles.TryGetValue(e.Execution.Order, out handle);
            ExecutionReport report = new ExecutionReport();
            report.Account = e.Execution.Account.Name;
            report.Instrument = e.Execution.Instrument.FullName;
            report.Handle = handle;
            report.Side = e.MarketPosition == MarketPosition.Long ? TradeSide.Buy : TradeSide.Sell;
            report.Qty = e.Quantity;
            report.Price = Decimal(e.Price) ?? 0m;
            Action<ExecutionReport> handler = Executed;
            if (handler != null)
                handler(report);
        }

        void OnPositionUpdate(object sender, PositionEventArgs e)
        {
            // a position NinjaTrader removes is flat (help guide, PositionUpdate)
            MarketPosition side = e.Operation == Operation.Remove ? MarketPosition.Flat : e.MarketPosition;
            PositionReport report = Report(e.Position.Account.Name, e.Position.Instrument.FullName, side, e.Quantity, e.AveragePrice);
            Action<PositionReport> handler = PositionChanged;
            if (handler != null)
                handler(report);
        }

        void OnMarketData(object sender, MarketDataEventArgs e)
        {
            if (e.MarketDataType != MarketDataType.Last)
                return;
            decimal? price = Decimal(e.Price);
            Action<PriceTick> handler = LastPrice;
            if (handler == null || !price.HasValue || price.Value <= 0)
                return;
            PriceTick tick = new PriceTick();
            tick.Instrument = e.Instrument.FullName;
            tick.Price = price.Value;
            handler(tick);
        }

        static PositionReport Report(string account, string instrument, MarketPosition side, int quantity, double averagePrice)
        {
            PositionReport report = new PositionReport();
            report.Account = account;
            report.Instrument = instrument;
            report.Qty = side == MarketPosition.Long ? quantity : side == MarketPosition.Short ? -quantity : 0;
            report.AveragePrice = report.Qty == 0 ? null : Decimal(averagePrice);
            return report;
        }

        /// <summary>A price from NinjaTrader as a decimal; null for NaN, infinities and the absurd.</summary>
        static decimal? Decimal(double value)
        {
            if (double.IsNaN(value) || double.IsInfinity(value) || Math.Abs(value) > 1e15)
                return null;
            return (decimal)value;
        }

        public void Dispose()
        {
            List<Account> used;
            List<Instrument> instruments;
            lock (gate)
            {
                used = new List<Account>(accounts);
                instruments = new List<Instrument>(watched);
                accounts.Clear();
                watched.Clear();
                handles.Clear();
            }
            // "Remember to unsubscribe" (help guide): a recompile must not leave the old copy listening
            foreach (Account account in used)
            {
                account.OrderUpdate -= OnOrderUpdate;
                account.ExecutionUpdate -= OnExecutionUpdate;
                account.PositionUpdate -= OnPositionUpdate;
            }
            foreach (Instrument instrument in instruments)
            {
                Instrument subscribed = instrument;
                if (!subscribed.Dispatcher.HasShutdownStarted)
                    subscribed.Dispatcher.InvokeAsync(() => subscribed.MarketData.Update -= OnMarketData);
            }
        }
    }
}
