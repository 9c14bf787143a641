// A simulated NinjaTrader account behind IAccountGateway, for the receiver's tests under Mono.
// It behaves as NinjaTrader 8's Account does where the receiver relies on it: orders go
// Initialized -> Submitted -> Accepted -> Working; market orders fill at once at the last price; a
// limit fills when a trade prints at or through it, at its price; a stop when a trade prints at or
// through it, at that trade's price; a stop-limit turns into its limit there; orders sharing an OCO id
// are cancelled when one fills; Flatten cancels the instrument's working orders and closes the
// position with a market order of its own. Events are raised synchronously, as NinjaTrader may.
using System;
using System.Collections.Generic;
using System.Linq;
using StationReceiver;

public sealed class FakeOrder : IOrderHandle
{
    public string Name { get; set; }
    public string Account;
    public string Instrument;
    public TradeSide Side;
    public OrderKind Kind;
    public int Qty;
    public decimal? Limit;
    public decimal? Stop;
    public TifKind Tif;
    public string Oco;
    public string State = "Initialized";
    public int Filled;
    public decimal AvgFill;
    public bool StopTriggered;
    public string AtmTemplate;

    public bool IsTerminal
    {
        get { return State == "Filled" || State == "Cancelled" || State == "Rejected"; }
    }

    public override string ToString()
    {
        return Name + " " + Side + " " + Qty + " " + Kind + " lmt=" + Limit + " stp=" + Stop + " oco=" + Oco + " " + State;
    }
}

public sealed class FakeAccountGateway : IAccountGateway
{
    public string AccountName = "Sim101";
    public readonly Dictionary<string, InstrumentInfo> Instruments = new Dictionary<string, InstrumentInfo>();
    public readonly Dictionary<string, decimal> Last = new Dictionary<string, decimal>();
    public readonly List<FakeOrder> Orders = new List<FakeOrder>();
    public readonly List<string> Calls = new List<string>();
    public readonly HashSet<string> AtmTemplates = new HashSet<string>();
    /// <summary>When above 0, market orders fill in executions of this size.</summary>
    public int FillChunk;
    /// <summary>The next order submitted is rejected with this reason.</summary>
    public string RejectNext;
    readonly Dictionary<string, int> positionQty = new Dictionary<string, int>();
    readonly Dictionary<string, decimal> positionAvg = new Dictionary<string, decimal>();
    readonly object sync = new object();

    public event Action<OrderUpdate> OrderUpdated;
    public event Action<ExecutionReport> Executed;
    public event Action<PositionReport> PositionChanged;
    public event Action<PriceTick> LastPrice;

    public FakeAccountGateway AddInstrument(string name, decimal tick, decimal last)
    {
        InstrumentInfo info = new InstrumentInfo();
        info.Name = name;
        info.TickSize = tick;
        Instruments[name] = info;
        Last[name] = last;
        return this;
    }

    public bool UseAccount(string account) { return account == AccountName; }

    public InstrumentInfo FindInstrument(string name)
    {
        InstrumentInfo info;
        return Instruments.TryGetValue(name, out info) ? info : null;
    }

    public IOrderHandle CreateOrder(OrderSpec spec)
    {
        lock (sync)
        {
            FakeOrder order = new FakeOrder();
            order.Name = spec.Name;
            order.Account = spec.Account;
            order.Instrument = spec.Instrument;
            order.Side = spec.Side;
            order.Kind = spec.Kind;
            order.Qty = spec.Qty;
            order.Limit = spec.LimitPrice;
            order.Stop = spec.StopPrice;
            order.Tif = spec.Tif;
            order.Oco = spec.Oco;
            Orders.Add(order);
            return order;
        }
    }

    public void Submit(IList<IOrderHandle> orders)
    {
        lock (sync)
        {
            Calls.Add("Submit " + string.Join(", ", orders.Select(o => o.Name).ToArray()));
            foreach (FakeOrder order in orders)
                SubmitOne(order);
        }
    }

    void SubmitOne(FakeOrder order)
    {
        Raise(order, "Submitted", null);
        if (RejectNext != null)
        {
            string reason = RejectNext;
            RejectNext = null;
            Raise(order, "Rejected", reason);
            return;
        }
        Raise(order, "Accepted", null);
        Raise(order, "Working", null);
        if (order.Kind == OrderKind.Market)
            FillAll(order, Last[order.Instrument]);
    }

    public bool StartAtm(string template, IOrderHandle entry)
    {
        lock (sync)
        {
            FakeOrder order = (FakeOrder)entry;
            Calls.Add("StartAtm " + template + " " + order.Name);
            // as NinjaTrader: the template must exist and the entry must be named "Entry"
            if (!AtmTemplates.Contains(template) || order.Name != "Entry")
                return false;
            order.AtmTemplate = template;
            SubmitOne(order);
            return true;
        }
    }

    public void Cancel(IList<IOrderHandle> orders)
    {
        lock (sync)
        {
            Calls.Add("Cancel " + string.Join(", ", orders.Select(o => o.Name).ToArray()));
            foreach (FakeOrder order in orders)
                CancelOne(order);
        }
    }

    void CancelOne(FakeOrder order)
    {
        if (order.IsTerminal)
            return;
        Raise(order, "CancelPending", null);
        Raise(order, "Cancelled", null);
    }

    public void Change(IOrderHandle handle, int qty, decimal? limitPrice, decimal? stopPrice)
    {
        lock (sync)
        {
            FakeOrder order = (FakeOrder)handle;
            Calls.Add("Change " + order.Name + " qty=" + qty + " lmt=" + limitPrice + " stp=" + stopPrice);
            if (order.IsTerminal)
                return;
            order.Qty = qty;
            if (limitPrice.HasValue) order.Limit = limitPrice;
            if (stopPrice.HasValue) order.Stop = stopPrice;
            Raise(order, "ChangeSubmitted", null);
            Raise(order, order.Filled > 0 ? "PartFilled" : "Working", null);
        }
    }

    public void Flatten(string account, string instrument)
    {
        lock (sync)
        {
            Calls.Add("Flatten " + account + " " + instrument);
            foreach (FakeOrder order in Orders.ToArray())
                if (order.Account == account && order.Instrument == instrument)
                    CancelOne(order);
            int qty = PositionQty(instrument);
            if (qty == 0)
                return;
            FakeOrder close = new FakeOrder();
            close.Name = "Close";
            close.Account = account;
            close.Instrument = instrument;
            close.Side = qty > 0 ? TradeSide.Sell : TradeSide.Buy;
            close.Kind = OrderKind.Market;
            close.Qty = Math.Abs(qty);
            close.Oco = "";
            Orders.Add(close);
            SubmitOne(close);
        }
    }

    public PositionReport Position(string account, string instrument)
    {
        lock (sync)
            return Report(instrument);
    }

    public IList<PositionReport> Positions(string account)
    {
        lock (sync)
            return positionQty.Where(p => p.Value != 0).Select(p => Report(p.Key)).ToList();
    }

    public IList<IOrderHandle> WorkingOrders(string account, string instrument)
    {
        lock (sync)
            return Orders.Where(o => o.Account == account && o.Instrument == instrument && !o.IsTerminal
                && o.State != "Initialized").Cast<IOrderHandle>().ToList();
    }

    public void WatchPrices(string instrument)
    {
        lock (sync)
        {
            string call = "Watch " + instrument;
            if (!Calls.Contains(call))
                Calls.Add(call);
        }
    }

    /// <summary>A trade prints at <paramref name="price"/>: working orders it reaches fill, then LastPrice.</summary>
    public void Trade(string instrument, decimal price)
    {
        lock (sync)
        {
            Last[instrument] = price;
            foreach (FakeOrder order in Orders.ToArray())
            {
                if (order.Instrument != instrument || order.IsTerminal || order.State == "Initialized")
                    continue;
                bool buy = order.Side == TradeSide.Buy;
                if ((order.Kind == OrderKind.Stop || order.Kind == OrderKind.StopLimit) && !order.StopTriggered)
                {
                    if (buy ? price < order.Stop.Value : price > order.Stop.Value)
                        continue;
                    order.StopTriggered = true;
                    if (order.Kind == OrderKind.Stop)
                    {
                        FillAll(order, price);
                        continue;
                    }
                }
                if (order.Kind == OrderKind.Limit || order.Kind == OrderKind.StopLimit)
                    if (buy ? price <= order.Limit.Value : price >= order.Limit.Value)
                        FillAll(order, order.Limit.Value);
            }
            if (LastPrice != null)
            {
                PriceTick tick = new PriceTick();
                tick.Instrument = instrument;
                tick.Price = price;
                LastPrice(tick);
            }
        }
    }

    /// <summary>Fills <paramref name="qty"/> more of a working order at <paramref name="price"/> (one execution).</summary>
    public void Fill(FakeOrder order, int qty, decimal price)
    {
        lock (sync)
        {
            int left = order.Qty - order.Filled;
            if (order.IsTerminal || left <= 0)
                return;
            qty = Math.Min(qty, left);
            order.AvgFill = (order.AvgFill * order.Filled + price * qty) / (order.Filled + qty);
            order.Filled += qty;
            Raise(order, order.Filled == order.Qty ? "Filled" : "PartFilled", null);
            if (Executed != null)
            {
                ExecutionReport execution = new ExecutionReport();
                execution.Account = order.Account;
                execution.Instrument = order.Instrument;
                execution.Handle = order;
                execution.Side = order.Side;
                execution.Qty = qty;
                execution.Price = price;
                Executed(execution);
            }
            Move(order.Instrument, order.Side == TradeSide.Buy ? qty : -qty, price);
            if (order.Filled == order.Qty)
            {
                if (!string.IsNullOrEmpty(order.Oco))
                    foreach (FakeOrder other in Orders.ToArray())
                        if (other != order && other.Oco == order.Oco)
                            CancelOne(other);
                if (order.AtmTemplate != null)
                    PlaceAtmExits(order);
            }
        }
    }

    void FillAll(FakeOrder order, decimal price)
    {
        while (!order.IsTerminal && order.Filled < order.Qty)
            Fill(order, FillChunk > 0 ? FillChunk : order.Qty - order.Filled, price);
    }

    // what an ATM template does once its entry fills: a stop and a target, one OCO group
    void PlaceAtmExits(FakeOrder entry)
    {
        decimal tick = Instruments[entry.Instrument].TickSize;
        int sign = entry.Side == TradeSide.Buy ? 1 : -1;
        string oco = "ATM-" + Orders.Count;
        FakeOrder stop = (FakeOrder)CreateOrder(ExitSpec(entry, "Stop1", OrderKind.Stop, null, entry.AvgFill - sign * 4 * tick, oco));
        FakeOrder target = (FakeOrder)CreateOrder(ExitSpec(entry, "Target1", OrderKind.Limit, entry.AvgFill + sign * 8 * tick, null, oco));
        SubmitOne(stop);
        SubmitOne(target);
    }

    static OrderSpec ExitSpec(FakeOrder entry, string name, OrderKind kind, decimal? limit, decimal? stop, string oco)
    {
        OrderSpec spec = new OrderSpec();
        spec.Account = entry.Account;
        spec.Instrument = entry.Instrument;
        spec.Side = entry.Side == TradeSide.Buy ? TradeSide.Sell : TradeSide.Buy;
        spec.Kind = kind;
        spec.Qty = entry.Qty;
        spec.LimitPrice = limit;
        spec.StopPrice = stop;
        spec.Oco = oco;
        spec.Name = name;
        return spec;
    }

    // as NinjaTrader averages: adding keeps a weighted average, reducing keeps it, crossing starts anew
    void Move(string instrument, int delta, decimal price)
    {
        int qty = PositionQty(instrument);
        decimal avg;
        positionAvg.TryGetValue(instrument, out avg);
        int next = qty + delta;
        if (next == 0)
            avg = 0;
        else if (qty == 0 || Math.Sign(next) != Math.Sign(qty))
            avg = price;
        else if (Math.Sign(delta) == Math.Sign(qty))
            avg = (avg * Math.Abs(qty) + price * Math.Abs(delta)) / Math.Abs(next);
        positionQty[instrument] = next;
        positionAvg[instrument] = avg;
        if (PositionChanged != null)
            PositionChanged(Report(instrument));
    }

    int PositionQty(string instrument)
    {
        int qty;
        return positionQty.TryGetValue(instrument, out qty) ? qty : 0;
    }

    PositionReport Report(string instrument)
    {
        PositionReport report = new PositionReport();
        report.Account = AccountName;
        report.Instrument = instrument;
        report.Qty = PositionQty(instrument);
        decimal avg;
        report.AveragePrice = report.Qty != 0 && positionAvg.TryGetValue(instrument, out avg) ? (decimal?)avg : null;
        return report;
    }

    void Raise(FakeOrder order, string state, string reason)
    {
        order.State = state;
        if (OrderUpdated == null)
            return;
        OrderUpdate update = new OrderUpdate();
        update.Handle = order;
        // as the NinjaTrader gateway does: the state's name, mapped by the core
        update.Status = ReplyStatus.FromNinjaTraderState(state);
        update.Filled = order.Filled;
        update.AverageFillPrice = order.Filled > 0 ? (decimal?)order.AvgFill : null;
        update.Reason = reason;
        OrderUpdated(update);
    }

    public FakeOrder Named(string name)
    {
        lock (sync)
            return Orders.LastOrDefault(o => o.Name == name);
    }
}
