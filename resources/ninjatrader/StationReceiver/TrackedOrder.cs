// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>An order the receiver placed, and what Station last heard about it.</summary>
    sealed class TrackedOrder
    {
        /// <summary>The id in its replies: the line's id for an entry, <c>&lt;id&gt;-sl</c>, <c>-tp</c> or
        /// <c>-trail</c> for a bracket's exits (Station's own names for bracket legs).</summary>
        public string ReplyId;
        public string LineId;
        public string Strategy;
        public string Instrument;
        public IOrderHandle Handle;
        public TradeSide Side;
        public int Qty;
        public decimal? LimitPrice;
        public decimal? StopPrice;

        public string Status;
        public int Filled;
        public decimal? AvgPrice;

        /// <summary>Set on an entry whose exits wait for its fills.</summary>
        public Bracket Bracket;
        /// <summary>Set on an exit: the OCO group it belongs to.</summary>
        public ExitGroup Group;

        public bool IsTerminal
        {
            get { return ReplyStatus.IsTerminal(Status); }
        }
    }

    /// <summary>An entry's exits: placed once it fills, sized to what filled.</summary>
    sealed class Bracket
    {
        public OrderIntent Intent;
        public TradeSide EntrySide;
        public InstrumentInfo Instrument;
        /// <summary>How much of the entry's fills exit orders cover so far.</summary>
        public int Covered;
        public int Groups;
        public ExitGroup Current;
    }

    /// <summary>Exit orders sharing one OCO id: when one fills, NinjaTrader cancels the others.</summary>
    sealed class ExitGroup
    {
        public int Qty;
        public List<TrackedOrder> Legs = new List<TrackedOrder>();
        public Trail Trail;

        /// <summary>All legs still working: the group can still be resized for further entry fills.</summary>
        public bool Open
        {
            get
            {
                foreach (TrackedOrder leg in Legs)
                    if (leg.IsTerminal)
                        return false;
                return Legs.Count > 0;
            }
        }
    }

    /// <summary>A trailing stop: its stop order follows the best price since the entry filled.</summary>
    sealed class Trail
    {
        public TrackedOrder Stop;
        public TradeSide EntrySide;
        public PriceOffset Offset;
        public decimal Tick;
        public decimal Best;
    }

    /// <summary>An exit or reverse waiting for NinjaTrader's flatten to leave the instrument flat.</summary>
    sealed class FlattenJob
    {
        public OrderIntent Intent;
        public InstrumentInfo Instrument;
        public int StartQty;
        public TradeSide Closing;
        public int Filled;
        public decimal Notional;
        /// <summary>For a reverse: the side to open once flat.</summary>
        public TradeSide? Reopen;
    }

    /// <summary>A cancel waiting for the orders it cancels to end.</summary>
    sealed class CancelJob
    {
        public string LineId;
        public HashSet<IOrderHandle> Pending = new HashSet<IOrderHandle>();
        public int Cancelled;
        public int Filled;
        public int Other;
    }
}
