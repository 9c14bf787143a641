// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>An order at the account, as the gateway knows it; the same order is always the same handle.</summary>
    public interface IOrderHandle
    {
        string Name { get; }
    }

    public sealed class InstrumentInfo
    {
        /// <summary>NinjaTrader's full name, e.g. "ES 12-26".</summary>
        public string Name;
        public decimal TickSize;
    }

    /// <summary>One order to create: what NinjaTrader's Account.CreateOrder takes.</summary>
    public sealed class OrderSpec
    {
        public string Account;
        public string Instrument;
        public TradeSide Side;
        public OrderKind Kind;
        public int Qty;
        public decimal? LimitPrice;
        public decimal? StopPrice;
        public TifKind Tif;
        /// <summary>Orders sharing a non-empty OCO id cancel each other when one fills.</summary>
        public string Oco = "";
        public string Name;
    }

    /// <summary>An order's state changed; <see cref="Status"/> is a <see cref="ReplyStatus"/> or null for
    /// states that say nothing yet.</summary>
    public sealed class OrderUpdate
    {
        public IOrderHandle Handle;
        public string Status;
        public int Filled;
        public decimal? AverageFillPrice;
        public string Reason;
    }

    public sealed class ExecutionReport
    {
        public string Account;
        public string Instrument;
        /// <summary>The order that filled, when the gateway knows one (NinjaTrader's own flatten orders: null).</summary>
        public IOrderHandle Handle;
        public TradeSide Side;
        public int Qty;
        public decimal Price;
    }

    public sealed class PositionReport
    {
        public string Account;
        public string Instrument;
        /// <summary>Signed: short is negative, flat is 0.</summary>
        public int Qty;
        public decimal? AveragePrice;
    }

    public sealed class PriceTick
    {
        public string Instrument;
        public decimal Price;
    }

    /// <summary>Everything the receiver does to or learns from a trading account. The NinjaTrader add-on
    /// implements it over NinjaTrader.Cbi.Account; tests implement it with a simulated account. Events may
    /// arrive on any thread, also from inside the calls below.</summary>
    public interface IAccountGateway
    {
        /// <summary>True when NinjaTrader has the account; from then on its order, execution and position
        /// events are raised (ports need position news before they place anything).</summary>
        bool UseAccount(string account);

        /// <summary>The instrument NinjaTrader knows by this name, or null.</summary>
        InstrumentInfo FindInstrument(string name);

        /// <summary>Creates an order without sending it, so its handle is known before any event about it.</summary>
        IOrderHandle CreateOrder(OrderSpec spec);

        void Submit(IList<IOrderHandle> orders);

        /// <summary>Sends <paramref name="entry"/> under the ATM strategy template <paramref name="template"/>;
        /// false when it could not be started. The entry must have been created with the name "Entry".</summary>
        bool StartAtm(string template, IOrderHandle entry);

        void Cancel(IList<IOrderHandle> orders);

        /// <summary>Changes a working order; a null price keeps the order's current one.</summary>
        void Change(IOrderHandle order, int qty, decimal? limitPrice, decimal? stopPrice);

        /// <summary>Cancels the account's working orders in the instrument and closes its position there.</summary>
        void Flatten(string account, string instrument);

        PositionReport Position(string account, string instrument);

        /// <summary>The account's open (non-flat) positions.</summary>
        IList<PositionReport> Positions(string account);

        /// <summary>The account's orders in the instrument that are not filled, cancelled or rejected.</summary>
        IList<IOrderHandle> WorkingOrders(string account, string instrument);

        /// <summary>Asks for <see cref="LastPrice"/> events of the instrument (for trailing stops).</summary>
        void WatchPrices(string instrument);

        event Action<OrderUpdate> OrderUpdated;
        event Action<ExecutionReport> Executed;
        event Action<PositionReport> PositionChanged;
        event Action<PriceTick> LastPrice;
    }
}
