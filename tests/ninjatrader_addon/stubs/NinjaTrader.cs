// Compile-only stand-ins for the NinjaTrader 8 members the Station Receiver add-on uses, so CI compiles
// resources/ninjatrader/StationReceiver/*.cs under Mono and a misspelt call fails the build. Never run.
// Signatures as the NinjaTrader 8 help guide documents them (Account, Order, Execution, Position,
// Instrument, MasterInstrument, MarketData, AtmStrategy, AddOn, NTWindow, NTMenuItem, Output) and as
// reflection listings of NinjaTrader.Core show them (enum members, event-args properties). Only the members
// the add-on uses are here (enums whole): a member it starts to use is added here after looking it up.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Windows;
using System.Windows.Threading;

namespace NinjaTrader.Cbi
{
    public enum OrderAction { Buy = 0, BuyToCover = 1, Sell = 2, SellShort = 3 }
    public enum OrderType { Limit = 0, Market = 1, MIT = 2, StopLimit = 3, StopMarket = 4, Unknown = 99 }
    public enum OrderEntry { Automated = 0, Manual = 1 }
    public enum TimeInForce { Day = 0, Gtc = 1, Ioc = 2, Opg = 3, Gtd = 4 }
    public enum OrderState
    {
        Accepted = 0, Cancelled = 1, Filled = 2, Initialized = 3, PartFilled = 4, CancelSubmitted = 5,
        ChangeSubmitted = 6, Submitted = 7, TriggerPending = 8, Rejected = 9, Working = 10, CancelPending = 11,
        ChangePending = 12, Suspended = 13, AcceptedByRisk = 50, Unknown = 99
    }
    public enum MarketPosition { Long = 0, Short = 1, Flat = 2 }
    public enum Operation { Add = 0, Update = 1, Remove = 2 }
    public enum ErrorCode
    {
        NoError, LogOnFailed, OrderRejected, UnableToCancelOrder, UnableToChangeOrder, UnableToSubmitOrder,
        UserAbort, OrderRejectedByRisk, LoginExpired, Panic
    }

    public class CustomOrder { }

    public class Account
    {
        public static Collection<Account> All { get { return null; } }
        public string Name { get { return null; } }
        public Collection<Order> Orders { get { return null; } }
        public Collection<Position> Positions { get { return null; } }
        public event EventHandler<OrderEventArgs> OrderUpdate;
        public event EventHandler<ExecutionEventArgs> ExecutionUpdate;
        public event EventHandler<PositionEventArgs> PositionUpdate;

        public Order CreateOrder(Instrument instrument, OrderAction action, OrderType orderType, OrderEntry orderEntry,
            TimeInForce timeInForce, int quantity, double limitPrice, double stopPrice, string oco, string name,
            DateTime gtd, CustomOrder customOrder) { return null; }
        public void Submit(IEnumerable<Order> orders) { }
        public void Cancel(IEnumerable<Order> orders) { }
        public void Change(IEnumerable<Order> orders) { }
        public void Flatten(ICollection<Instrument> instruments) { }

        // silence "event never used": the real Account raises them
        void Unused() { OrderUpdate(null, null); ExecutionUpdate(null, null); PositionUpdate(null, null); }
    }

    public class Order
    {
        public Account Account { get { return null; } }
        public Instrument Instrument { get { return null; } }
        public double LimitPrice { get { return 0; } }
        public double LimitPriceChanged { get; set; }
        public string Name { get { return null; } }
        public OrderState OrderState { get { return OrderState.Unknown; } }
        public int QuantityChanged { get; set; }
        public double StopPrice { get { return 0; } }
        public double StopPriceChanged { get; set; }
        public static bool IsTerminalState(OrderState orderState) { return false; }
    }

    public class Execution
    {
        public Account Account { get { return null; } }
        public Instrument Instrument { get { return null; } }
        public Order Order { get { return null; } }
    }

    public class Position
    {
        public Account Account { get { return null; } }
        public double AveragePrice { get { return 0; } }
        public Instrument Instrument { get { return null; } }
        public MarketPosition MarketPosition { get { return MarketPosition.Flat; } }
        public int Quantity { get { return 0; } }
    }

    public class MasterInstrument
    {
        public double TickSize { get { return 0; } }
    }

    public class Instrument
    {
        public Dispatcher Dispatcher { get { return null; } }
        public string FullName { get { return null; } }
        public NinjaTrader.Data.MarketData MarketData { get { return null; } }
        public MasterInstrument MasterInstrument { get { return null; } }
        // help guide: Instrument.GetInstrument(string instrumentName); reflection shows a second, optional flag
        public static Instrument GetInstrument(string instrumentName, bool create = false) { return null; }
    }

    public class OrderEventArgs : EventArgs
    {
        public double AverageFillPrice { get { return 0; } }
        public string Comment { get { return null; } }
        public ErrorCode Error { get { return ErrorCode.NoError; } }
        public int Filled { get { return 0; } }
        public Order Order { get { return null; } }
        public OrderState OrderState { get { return OrderState.Unknown; } }
    }

    public class ExecutionEventArgs : EventArgs
    {
        public Execution Execution { get { return null; } }
        public MarketPosition MarketPosition { get { return MarketPosition.Flat; } }
        public Operation Operation { get { return Operation.Add; } }
        public double Price { get { return 0; } }
        public int Quantity { get { return 0; } }
    }

    public class PositionEventArgs : EventArgs
    {
        public double AveragePrice { get { return 0; } }
        public MarketPosition MarketPosition { get { return MarketPosition.Flat; } }
        public Operation Operation { get { return Operation.Add; } }
        public Position Position { get { return null; } }
        public int Quantity { get { return 0; } }
    }
}

namespace NinjaTrader.Data
{
    public enum MarketDataType
    {
        Ask = 0, Bid = 1, Last = 2, DailyHigh = 3, DailyLow = 4, DailyVolume = 5, LastClose = 6, Opening = 7,
        OpenInterest = 8, Settlement = 9, Unknown = 10
    }

    public class MarketDataEventArgs : EventArgs
    {
        public NinjaTrader.Cbi.Instrument Instrument { get { return null; } }
        public MarketDataType MarketDataType { get { return MarketDataType.Unknown; } }
        public double Price { get { return 0; } }
    }

    public class MarketData
    {
        public event EventHandler<MarketDataEventArgs> Update;
        void Unused() { Update(null, null); }
    }
}

namespace NinjaTrader.Core
{
    public static class Globals
    {
        public static string UserDataDir { get { return null; } }
        public static DateTime MaxDate { get { return DateTime.MaxValue; } }
        public static Dispatcher RandomDispatcher { get { return null; } }
    }
}

namespace NinjaTrader.NinjaScript
{
    public enum PrintTo { OutputTab1 = 0, OutputTab2 = 1 }

    public enum State
    {
        Undefined = 0, SetDefaults = 1, Configure = 2, Active = 3, DataLoaded = 4, Historical = 5, Transition = 6,
        Realtime = 7, Terminated = 8, Finalized = 9
    }

    public abstract class NinjaScriptBase
    {
        public string Description { get; set; }
        public string Name { get; set; }
        public State State { get { return State.Undefined; } }
        protected virtual void OnStateChange() { }
    }

    public abstract class AddOnBase : NinjaScriptBase
    {
        protected virtual void OnWindowCreated(Window window) { }
        protected virtual void OnWindowDestroyed(Window window) { }
    }

    public class AtmStrategy
    {
        public static AtmStrategy StartAtmStrategy(string atmStrategyTemplateName, NinjaTrader.Cbi.Order entryOrder) { return null; }
    }
}

namespace NinjaTrader.Code
{
    public static class Output
    {
        public static void Process(string message, NinjaTrader.NinjaScript.PrintTo outputTab) { }
    }
}

namespace NinjaTrader.Gui.Tools
{
    public class NTWindow : Window
    {
        public string Caption { get; set; }
    }

    public class NTMenuItem : System.Windows.Controls.MenuItem { }
}

namespace NinjaTrader.Gui
{
    public class ControlCenter : NinjaTrader.Gui.Tools.NTWindow
    {
        // help guide, OnWindowCreated(): cc.FindFirst("ControlCenterMenuItemNew") as NTMenuItem
        public DependencyObject FindFirst(string automationId) { return null; }
    }
}
