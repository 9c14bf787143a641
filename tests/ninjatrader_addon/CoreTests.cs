// The receiver's protocol core under Mono: parsing, replies, brackets, the repeat store and one desk
// trading a simulated account. Exit status 1 when any check fails.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StationReceiver;

public static class CoreTests
{
    static int Main()
    {
        Action[] tests = {
            ParsesAContractLine, RefusesWhatTheContractRefuses, AcceptsNumbersAsStrings,
            RepliesAreTheContractsShapes, MapsEveryNinjaTraderOrderState, StatusesOnlyMoveForward,
            ComputesExitPricesOnTheTickGrid, NamesOrdersWithAStableStrategyTag,
            RepeatStoreSurvivesReopenTornWritesAndRotation, SettingsRoundTrip,
            MarketBuyIsAcknowledgedWorkedFilledAndPositioned, RepeatedIdIsDroppedAndAnsweredWithItsLatestNews,
            BadLinesAreRejectedWithTheirIdWhenTheyHaveOne, UnknownInstrumentAndAccountRejections,
            RejectionByTheAccountIsRelayed, BracketExitsWaitForTheFillAndFormOneOcoGroup,
            PartialFillsSizeTheExits, EntryCancelledBeforeItFilledCancelsItsExits,
            AbsoluteExitPassedByTheFillIsRefused, TrailingStopFollowsTheBestPrice,
            LimitStopAndStopLimitEntries, ExitFlattensTheInstrument, ReverseClosesThenOpensTheOtherSide,
            CancelEndsOnlyThatStrategysWorkingOrders, AtmTemplateManagesEntriesWithoutExits,
            RepliesWaitForAConnection, ChangedPortSettingsKeepTheIdsTaken,
        };
        foreach (Action test in tests)
        {
            Check.Current = test.Method.Name;
            try
            {
                test();
            }
            catch (Exception e)
            {
                Check.Failures++;
                Console.Error.WriteLine("FAIL " + Check.Current + ": threw " + e);
            }
        }
        Console.WriteLine(tests.Length + " tests, " + Check.Failures + " failure(s)");
        return Check.Failures == 0 ? 0 : 1;
    }

    // ---- parsing ----------------------------------------------------------------------------------

    static void ParsesAContractLine()
    {
        ParsedLine parsed = IntentParser.Parse(Check.J(
            "{'id': 'a17-Mom-port:7001', 'alert_id': 17, 'strategy': 'Mom', 'ticker': 'ES', 'action': 'buy', 'qty': 2," +
            " 'price': 5000.25, 'position': 'short', 'target_position': null, 'trade_id': 'T1', 'time': '2024-01-04T10:30:00-05:00'," +
            " 'order_type': 'limit', 'limit_price': 4999.5, 'stop_price': null, 'tif': 'gtc'," +
            " 'stop_loss': {'ticks': 8}, 'take_profit': 5010, 'trailing_stop': null}"));
        Check.Equal(null, parsed.Error, "error");
        OrderIntent intent = parsed.Intent;
        Check.Equal("a17-Mom-port:7001", intent.Id, "id");
        Check.Equal("Mom", intent.Strategy, "strategy");
        Check.Equal(LineAction.Buy, intent.Action, "action");
        Check.Equal(2, intent.Qty, "qty");
        Check.Equal(OrderKind.Limit, intent.Kind, "kind");
        Check.Equal(4999.5m, intent.LimitPrice, "limit");
        Check.Equal(TifKind.Gtc, intent.Tif, "tif");
        Check.Equal(OffsetUnit.Ticks, intent.StopLoss.Offset.Unit, "stop unit");
        Check.Equal(8m, intent.StopLoss.Offset.Value, "stop ticks");
        Check.Equal(5010m, intent.TakeProfit.Price, "target price");

        // the line Station writes today, without order instructions: a market day order
        parsed = IntentParser.Parse(Check.J("{'id': 'x', 'alert_id': 1, 'strategy': null, 'ticker': 'AAPL', 'action': 'SELL'," +
            " 'qty': 10, 'price': 150.25, 'position': null, 'target_position': null, 'trade_id': null, 'time': 't'}"));
        Check.Equal(null, parsed.Error, "plain line");
        Check.Equal(OrderKind.Market, parsed.Intent.Kind, "default market");
        Check.Equal(TifKind.Day, parsed.Intent.Tif, "default day");
        Check.Equal("", parsed.Intent.Strategy, "no strategy");
        Check.Equal(LineAction.Sell, parsed.Intent.Action, "case-insensitive action");
        Check.Equal(LineAction.Exit, IntentParser.Parse(Check.J("{'id':'c','ticker':'ES','action':'close'}")).Intent.Action, "close is exit");
    }

    static void RefusesWhatTheContractRefuses()
    {
        string buy = "'id':'r','ticker':'ES','action':'buy','qty':1";
        Dictionary<string, string> cases = new Dictionary<string, string> {
            { "{" + buy + ",'order_type':'limit'}", "limit_price: a limit order needs it" },
            { "{" + buy + ",'order_type':'stop'}", "stop_price: a stop order needs it" },
            { "{" + buy + ",'order_type':'stop_limit','stop_price':5}", "limit_price: a stop_limit order needs it" },
            { "{" + buy + ",'limit_price':5}", "limit_price: a market order takes none" },
            { "{" + buy + ",'order_type':'limit','limit_price':5000,'stop_price':4990}", "stop_price: a limit order takes none" },
            { "{" + buy + ",'order_type':'limit','limit_price':5000,'stop_loss':5001}", "stop_loss: 5001 is not below the buy's limit price 5000" },
            { "{'id':'r','ticker':'ES','action':'sell','qty':1,'price':100,'take_profit':101}", "take_profit: 101 is not below the alert's price 100" },
            { "{" + buy + ",'stop_loss':{'ticks':0}}", "stop_loss.ticks: must be greater than 0, got 0" },
            { "{" + buy + ",'take_profit':{'points':-1}}", "take_profit.points: must be greater than 0, got -1" },
            { "{" + buy + ",'stop_loss':{'pips':3}}", "stop_loss: unknown key 'pips' (use ticks, points or percent)" },
            { "{" + buy + ",'stop_loss':{'ticks':3,'points':1}}", "stop_loss: give exactly one of ticks, points or percent" },
            { "{" + buy + ",'stop_loss':{'ticks':2.5}}", "stop_loss.ticks: must be a whole number of ticks, got 2.5" },
            { "{" + buy + ",'trailing_stop':{'ticks':4},'stop_loss':{'ticks':4}}", "trailing_stop: not together with stop_loss" },
            { "{" + buy + ",'trailing_stop':4}", "trailing_stop: must be {\"ticks\": N}, {\"points\": X} or {\"percent\": P}" },
            { "{'id':'r','ticker':'ES','action':'exit','order_type':'limit'}", "order_type: exit lines carry no order instructions" },
            { "{'id':'r','ticker':'ES','action':'cancel','stop_loss':{'ticks':1}}", "stop_loss: cancel lines carry no order instructions" },
            { "{'id':'r','ticker':'ES','action':'buy','qty':1.5}", "qty: NinjaTrader trades whole quantities, got 1.5" },
            { "{'id':'r','ticker':'ES','action':'buy','qty':0}", "qty: must be at least 1, got 0" },
            { "{'id':'r','ticker':'ES','action':'buy'}", "qty: required" },
            { "{'id':'r','ticker':'ES','action':'hold','qty':1}", "action: 'hold' is not one of buy, sell, exit, reverse, cancel" },
            { "{'id':'r','ticker':'','action':'buy','qty':1}", "ticker: must be a non-empty string" },
            { "{" + buy + ",'tif':'ioc'}", "tif: must be day or gtc" },
            { "{" + buy + ",'order_type':'trailing'}", "order_type: 'trailing' is not one of market, limit, stop, stop_limit" },
            { "{" + buy + ",'order_type':'limit','limit_price':-3}", "limit_price: must be a positive price, got -3" },
            { "{" + buy + ",'price':'abc'}", "price: must be a number" },
            { "{" + buy + ",'ticker1':'NMFC','hedge':0.72,'ticker2':'ROIC'}", "ticker: pair (spread) lines are not traded by the NinjaTrader receiver; route each leg's ticker to the port instead" },
            { "{'id':'r','ticker':'ES','action':'buy','qty':NaN}", "qty: must be a number" },
            { "{'id':'r','ticker':'ES','action':'buy','qty':1,'strategy':5}", "strategy: must be a string or null" },
        };
        foreach (KeyValuePair<string, string> pair in cases)
        {
            ParsedLine parsed = IntentParser.Parse(Check.J(pair.Key));
            Check.Equal("r", parsed.Id, "id kept for " + pair.Key);
            Check.Equal(pair.Value, parsed.Error, "error for " + pair.Key);
        }
        Dictionary<string, string> noId = new Dictionary<string, string> {
            { "not json", null },
            { "[1, 2]", "line is not a JSON object" },
            { "{'ticker':'ES'}", "id: must be a non-empty string" },
            { "{'id':17,'ticker':'ES'}", "id: must be a non-empty string" },
            { "{'id':'a\\nb','ticker':'ES'}", "id: contains a control character" },
        };
        foreach (KeyValuePair<string, string> pair in noId)
        {
            ParsedLine parsed = IntentParser.Parse(Check.J(pair.Key));
            Check.Equal(null, parsed.Id, "no id for " + pair.Key);
            Check.That(parsed.Error != null && (pair.Value == null ? parsed.Error.StartsWith("line is not valid JSON") : parsed.Error == pair.Value),
                "error for " + pair.Key + ": " + parsed.Error);
        }
    }

    static void AcceptsNumbersAsStrings()
    {
        ParsedLine parsed = IntentParser.Parse(Check.J(
            "{'id':'s','ticker':'ES','action':'buy','qty':'3','order_type':'stop_limit','stop_price':'5001.5','limit_price':'5002'," +
            "'take_profit':{'percent':'0.5'},'trailing_stop':{'points':'2'}}"));
        Check.Equal(null, parsed.Error, "error");
        Check.Equal(3, parsed.Intent.Qty, "qty");
        Check.Equal(5001.5m, parsed.Intent.StopPrice, "stop");
        Check.Equal(5002m, parsed.Intent.LimitPrice, "limit");
        Check.Equal(0.5m, parsed.Intent.TakeProfit.Offset.Value, "percent");
        Check.Equal(OffsetUnit.Points, parsed.Intent.TrailingStop.Unit, "trail unit");
    }

    // ---- replies ----------------------------------------------------------------------------------

    static void RepliesAreTheContractsShapes()
    {
        Check.Equal("{\"type\":\"ack\",\"id\":\"a1\"}", Replies.Ack("a1"), "ack");
        Check.Equal("{\"type\":\"order\",\"id\":\"a1\",\"status\":\"working\",\"filled_qty\":0,\"avg_price\":null,\"reason\":null}",
            Replies.Order("a1", "working", 0, null, null), "order");
        Check.Equal("{\"type\":\"order\",\"id\":\"a1\",\"status\":\"filled\",\"filled_qty\":2,\"avg_price\":5000.25,\"reason\":null}",
            Replies.Order("a1", "filled", 2, 5000.2500m, null), "plain decimal");
        Check.Equal("{\"type\":\"order\",\"id\":null,\"status\":\"rejected\",\"filled_qty\":0,\"avg_price\":null,\"reason\":\"say \\\"why\\\"\"}",
            Replies.Rejected(null, "say \"why\""), "rejected without id");
        Check.Equal("{\"type\":\"position\",\"account\":\"Sim101\",\"instrument\":\"ES 12-26\",\"qty\":-1,\"avg_price\":5000.25}",
            Replies.Position("Sim101", "ES 12-26", -1, 5000.25m), "short position");
        Check.Equal("{\"type\":\"position\",\"account\":\"Sim101\",\"instrument\":\"ES 12-26\",\"qty\":0,\"avg_price\":null}",
            Replies.Position("Sim101", "ES 12-26", 0, 5000m), "flat");
    }

    static void MapsEveryNinjaTraderOrderState()
    {
        // NinjaTrader.Cbi.OrderState's names (NinjaTrader 8 help, Order; and the enum itself)
        Dictionary<string, string> expected = new Dictionary<string, string> {
            { "Initialized", null }, { "Unknown", null },
            { "Submitted", "submitted" }, { "AcceptedByRisk", "submitted" },
            { "Accepted", "working" }, { "Working", "working" }, { "TriggerPending", "working" },
            { "ChangePending", "working" }, { "ChangeSubmitted", "working" }, { "CancelPending", "working" },
            { "CancelSubmitted", "working" }, { "Suspended", "working" },
            { "PartFilled", "partially_filled" }, { "Filled", "filled" }, { "Cancelled", "cancelled" }, { "Rejected", "rejected" },
        };
        foreach (KeyValuePair<string, string> pair in expected)
            Check.Equal(pair.Value, ReplyStatus.FromNinjaTraderState(pair.Key), pair.Key);
    }

    static void StatusesOnlyMoveForward()
    {
        Check.That(ReplyStatus.IsNews(null, 0, "submitted", 0), "first news");
        Check.That(ReplyStatus.IsNews("submitted", 0, "working", 0), "forward");
        Check.That(!ReplyStatus.IsNews("working", 0, "submitted", 0), "no step back");
        Check.That(!ReplyStatus.IsNews("partially_filled", 1, "working", 1), "a change after a partial fill is no news");
        Check.That(ReplyStatus.IsNews("partially_filled", 1, "partially_filled", 2), "a further partial fill is");
        Check.That(!ReplyStatus.IsNews("filled", 2, "cancelled", 2), "nothing after the end");
        Check.That(!ReplyStatus.IsNews("working", 0, null, 0), "silent states");
    }

    static void ComputesExitPricesOnTheTickGrid()
    {
        Check.Equal(4998.00m, BracketMath.StopLoss(TradeSide.Buy, 5000m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Ticks, 8)), 0.25m), "buy stop ticks");
        Check.Equal(5002.00m, BracketMath.StopLoss(TradeSide.Sell, 5000m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Ticks, 8)), 0.25m), "sell stop ticks");
        Check.Equal(5010.00m, BracketMath.TakeProfit(TradeSide.Buy, 5000m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Points, 10)), 0.25m), "buy target points");
        Check.Equal(4990.00m, BracketMath.TakeProfit(TradeSide.Sell, 5000m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Points, 10)), 0.25m), "sell target points");
        // 1% of 5000.1 is 50.001: 4950.099 lies on no 0.25 tick, the nearest is 4950.00
        Check.Equal(4950.00m, BracketMath.StopLoss(TradeSide.Buy, 5000.1m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Percent, 1)), 0.25m), "percent rounded");
        // a tiny offset still leaves the exit a tick away from the fill
        Check.Equal(4999.75m, BracketMath.StopLoss(TradeSide.Buy, 5000m, ExitLevel.AtOffset(new PriceOffset(OffsetUnit.Percent, 0.001m)), 0.25m), "at least a tick");
        Check.Equal(5012.25m, BracketMath.TakeProfit(TradeSide.Buy, 5000m, ExitLevel.AtPrice(5012.3m), 0.25m), "absolute on the grid");
        Check.Equal(150.25m, BracketMath.TrailingStop(TradeSide.Sell, 150.00m, new PriceOffset(OffsetUnit.Ticks, 25), 0.01m), "sell trail");
    }

    static void NamesOrdersWithAStableStrategyTag()
    {
        Check.Equal("811c9dc5", OrderNames.Tag(""), "FNV-1a offset basis for no strategy");
        Check.Equal("STN entry " + OrderNames.Tag("Mom"), OrderNames.For("entry", "Mom"), "name");
        Check.That(OrderNames.Belongs(OrderNames.For("sl", "Mom"), "Mom"), "belongs");
        Check.That(!OrderNames.Belongs(OrderNames.For("sl", "Mom"), "Other"), "another strategy's");
        Check.That(!OrderNames.Belongs("Entry", "Mom"), "not ours");
        Check.That(OrderNames.For("trail", new string('x', 200)).Length <= 50, "fits NinjaTrader's 50 characters");
    }

    static void RepeatStoreSurvivesReopenTornWritesAndRotation()
    {
        string path = Path.Combine(Check.TempDir(), "seen.txt");
        using (RepeatStore store = new RepeatStore(path, 3))
        {
            store.Add("a");
            store.Add("b");
            Check.That(store.Contains("a") && store.Contains("b") && !store.Contains("c"), "remembers");
        }
        File.AppendAllText(path, "tor"); // a crash in the middle of writing "torn"
        using (RepeatStore store = new RepeatStore(path, 3))
        {
            Check.That(store.Contains("a") && store.Contains("b"), "after a restart");
            Check.That(!store.Contains("tor"), "a torn id is no id");
            store.Add("c"); // the third id: this generation is full and becomes .old
            store.Add("d");
            Check.That(File.Exists(path + ".old"), "rotated");
        }
        Check.Equal("a\nb\ntor\nc\n", File.ReadAllText(path + ".old"), "the old generation, the torn piece on a line of its own");
        using (RepeatStore store = new RepeatStore(path, 3))
        {
            Check.That(store.Contains("a") && store.Contains("d"), "both generations");
            store.Add("e");
            store.Add("f"); // rotates again: a, b, c drop out
            Check.That(!store.Contains("a") && store.Contains("d") && store.Contains("f"), "bounded");
        }
    }

    static void SettingsRoundTrip()
    {
        string error;
        Dictionary<string, string> map = InstrumentMapText.Parse(" ES = ES 12-26 ;NQ=NQ 12-26;", out error);
        Check.Equal(null, error, "map parse");
        Check.Equal("ES=ES 12-26; NQ=NQ 12-26", InstrumentMapText.Format(map), "map format");
        InstrumentMapText.Parse("ES", out error);
        Check.Equal("'ES' is not TICKER=INSTRUMENT (e.g. ES=ES 12-26)", error, "bad map entry");

        ReceiverSettings settings = new ReceiverSettings();
        PortSettings port = new PortSettings();
        port.Port = 7001;
        port.Account = "Sim101";
        port.AtmTemplate = "2 targets";
        port.Instruments = map;
        settings.Ports.Add(port);
        string path = Path.Combine(Check.TempDir(), "dir", "settings.json");
        settings.Save(path);
        settings.Save(path); // replacing an existing file
        ReceiverSettings loaded = ReceiverSettings.Load(path);
        Check.Equal(1, loaded.Ports.Count, "ports");
        Check.That(loaded.Ports[0].SameAs(port), "same port");
        Check.Equal("ES 12-26", loaded.Ports[0].InstrumentFor("es"), "map is case-insensitive");
        Check.Equal("CL", loaded.Ports[0].InstrumentFor("CL"), "unmapped ticker is its own instrument");
        Check.Equal("ES 12-26", loaded.Ports[0].InstrumentFor("CME_MINI:ES1!"), "a continuous future by its root");
        Check.Equal("NQ 12-26", loaded.Ports[0].InstrumentFor("CME_MINI:NQ"), "a ticker without its exchange");
        Check.Equal("AAPL", loaded.Ports[0].InstrumentFor("NASDAQ:AAPL"), "unmapped: without its exchange");
        Check.Equal("ES 12-26", loaded.Ports[0].InstrumentFor("ES2!"), "any rank, as Station routes it (to ES)");
        Check.Equal("MES1!", loaded.Ports[0].InstrumentFor("CME_MINI:MES1!"), "an unmapped root stays as sent");
        loaded.Ports[0].Instruments["CME_MINI:ES1!"] = "ES 03-27";
        Check.Equal("ES 03-27", loaded.Ports[0].InstrumentFor("CME_MINI:ES1!"), "a mapping as sent wins");
        settings.Ports.Add(port);
        Check.Equal("port 7001 is listed twice", settings.Problem(), "duplicate");
        Check.Equal(0, ReceiverSettings.Load(path + ".missing").Ports.Count, "no file, no ports");
    }

    // ---- one desk on a simulated account ------------------------------------------------------

    const string Buy1 = "{'id':'a1','strategy':'Mom','ticker':'ES','action':'buy','qty':1,'price':5000}";

    static void MarketBuyIsAcknowledgedWorkedFilledAndPositioned()
    {
        DeskHarness desk = new DeskHarness("");
        List<IDictionary<string, object>> replies = desk.Line(Buy1);
        Check.Equal("ack", replies[0]["type"], "ack first");
        Check.Equal("a1", replies[0]["id"], "ack id");
        Check.Equal("submitted,working,filled", string.Join(",", DeskHarness.Statuses(replies, "a1")), "statuses");
        IDictionary<string, object> filled = DeskHarness.Last(replies, "a1");
        Check.Equal(1, filled["filled_qty"], "filled qty");
        Check.Equal(5000m, DeskHarness.Num(filled["avg_price"]), "avg price");
        IDictionary<string, object> position = replies.Last(r => (string)r["type"] == "position");
        Check.Equal("Sim101", position["account"], "account");
        Check.Equal("ES 12-26", position["instrument"], "mapped instrument");
        Check.Equal(1, position["qty"], "position qty");
        FakeOrder order = desk.Fake.Orders[0];
        Check.Equal("STN entry " + OrderNames.Tag("Mom"), order.Name, "named for its strategy");
        Check.Equal(TifKind.Day, order.Tif, "day");

        replies = desk.Line("{'id':'a2','strategy':'Mom','ticker':'ES','action':'sell','qty':3}");
        Check.Equal(-2, replies.Last(r => (string)r["type"] == "position")["qty"], "short is negative");
    }

    static void RepeatedIdIsDroppedAndAnsweredWithItsLatestNews()
    {
        string dir = Check.TempDir();
        DeskHarness desk = new DeskHarness("", dir);
        desk.Line(Buy1);
        List<IDictionary<string, object>> replies = desk.Line(Buy1);
        Check.Equal(1, desk.Fake.Orders.Count, "no second order");
        Check.Equal("ack", replies[0]["type"], "acknowledged again");
        Check.Equal("filled", DeskHarness.Last(replies, "a1")["status"], "with where it stands");
        desk.Desk.Dispose();

        // NinjaTrader restarted: the id is still known, nothing more is known about it
        DeskHarness again = new DeskHarness("", dir);
        replies = again.Line(Buy1);
        Check.Equal(0, again.Fake.Orders.Count, "dropped after a restart");
        Check.Equal(1, replies.Count(r => (string)r["type"] == "ack"), "one ack");
        Check.Equal(0, replies.Count(r => (string)r["type"] == "order"), "no order news");
    }

    static void BadLinesAreRejectedWithTheirIdWhenTheyHaveOne()
    {
        DeskHarness desk = new DeskHarness("");
        List<IDictionary<string, object>> replies = desk.Line("{oops");
        Check.Equal(1, replies.Count, "one reply");
        Check.Equal("rejected", replies[0]["status"], "rejected");
        Check.Equal(null, replies[0]["id"], "no id");
        replies = desk.Line("{'id':'b1','ticker':'ES','action':'buy','qty':1,'order_type':'limit'}");
        Check.Equal("ack", replies[0]["type"], "taken (and acknowledged, so Station stops sending it)");
        Check.Equal("limit_price: a limit order needs it", DeskHarness.Last(replies, "b1")["reason"], "reason");
        Check.Equal(0, desk.Fake.Orders.Count, "nothing placed");
    }

    static void UnknownInstrumentAndAccountRejections()
    {
        DeskHarness desk = new DeskHarness("");
        List<IDictionary<string, object>> replies = desk.Line("{'id':'u1','ticker':'ZZ','action':'buy','qty':1}");
        Check.Equal("ticker: NinjaTrader knows no instrument 'ZZ' (map the ticker to one in the Station Receiver window)",
            DeskHarness.Last(replies, "u1")["reason"], "unknown instrument");
        Check.Equal(150m, DeskHarness.Num(DeskHarness.Last(desk.Line("{'id':'u2','ticker':'AAPL','action':'buy','qty':1}"), "u2")["avg_price"]),
            "an unmapped ticker NinjaTrader knows trades as itself");
        desk.Fake.AccountName = "Other";
        replies = desk.Line("{'id':'u3','ticker':'ES','action':'buy','qty':1}");
        Check.Equal("account 'Sim101' is not available in NinjaTrader (is its connection up?)", DeskHarness.Last(replies, "u3")["reason"], "no account");
    }

    static void RejectionByTheAccountIsRelayed()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Fake.RejectNext = "Order rejected: insufficient margin";
        List<IDictionary<string, object>> replies = desk.Line(Buy1);
        Check.Equal("submitted,rejected", string.Join(",", DeskHarness.Statuses(replies, "a1")), "statuses");
        Check.Equal("Order rejected: insufficient margin", DeskHarness.Last(replies, "a1")["reason"], "NinjaTrader's reason");
    }

    static void BracketExitsWaitForTheFillAndFormOneOcoGroup()
    {
        DeskHarness desk = new DeskHarness("");
        List<IDictionary<string, object>> replies = desk.Line(
            "{'id':'k1','strategy':'Mom','ticker':'ES','action':'buy','qty':2,'order_type':'limit','limit_price':4999," +
            "'stop_loss':{'ticks':8},'take_profit':{'points':5}}");
        Check.Equal("submitted,working", string.Join(",", DeskHarness.Statuses(replies, "k1")), "entry working");
        Check.Equal(1, desk.Fake.Orders.Count, "exits held until the entry fills");
        replies = desk.Trade("ES 12-26", 4998.75m);
        Check.Equal("filled", DeskHarness.Last(replies, "k1")["status"], "entry filled at its limit");
        FakeOrder tp = desk.Fake.Named("STN tp " + OrderNames.Tag("Mom"));
        FakeOrder sl = desk.Fake.Named("STN sl " + OrderNames.Tag("Mom"));
        Check.That(tp != null && sl != null, "both exits placed");
        Check.Equal(5004.00m, tp.Limit, "target 5 points above the fill 4999");
        Check.Equal(4997.00m, sl.Stop, "stop 8 ticks below");
        Check.Equal(TradeSide.Sell, sl.Side, "exits sell");
        Check.Equal(2, tp.Qty, "sized to what filled");
        Check.That(!string.IsNullOrEmpty(tp.Oco) && tp.Oco == sl.Oco, "one OCO id");
        Check.Equal("working", DeskHarness.Last(replies, "k1-tp")["status"], "target working");
        Check.Equal("working", DeskHarness.Last(replies, "k1-sl")["status"], "stop working");

        replies = desk.Trade("ES 12-26", 5004.25m);
        Check.Equal("filled", DeskHarness.Last(replies, "k1-tp")["status"], "target filled");
        Check.Equal("cancelled", DeskHarness.Last(replies, "k1-sl")["status"], "its OCO sibling cancelled");
        Check.Equal(0, replies.Last(r => (string)r["type"] == "position")["qty"], "flat");
    }

    static void PartialFillsSizeTheExits()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'p1','strategy':'Mom','ticker':'ES','action':'buy','qty':3,'order_type':'limit','limit_price':5000,'stop_loss':{'ticks':4}}");
        FakeOrder entry = desk.Fake.Orders[0];
        desk.Fake.Fill(entry, 1, 5000m);
        List<IDictionary<string, object>> replies = desk.Take();
        IDictionary<string, object> partial = DeskHarness.Last(replies, "p1");
        Check.Equal("partially_filled", partial["status"], "partial");
        Check.Equal(1, partial["filled_qty"], "one filled");
        FakeOrder stop = desk.Fake.Named("STN sl " + OrderNames.Tag("Mom"));
        Check.Equal(1, stop.Qty, "stop covers what filled");
        desk.Fake.Fill(entry, 2, 5000m);
        replies = desk.Take();
        Check.Equal("filled", DeskHarness.Last(replies, "p1")["status"], "filled");
        Check.Equal(3, stop.Qty, "stop grown to the whole fill");
        Check.That(desk.Fake.Calls.Contains("Change " + stop.Name + " qty=3 lmt= stp="), "through Account.Change");
        Check.Equal(1, desk.Fake.Orders.Count(o => o.Name == stop.Name), "one stop, not two");
    }

    static void EntryCancelledBeforeItFilledCancelsItsExits()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'c1','strategy':'Mom','ticker':'ES','action':'buy','qty':1,'order_type':'limit','limit_price':4900,'stop_loss':{'ticks':4},'take_profit':{'ticks':4}}");
        List<IDictionary<string, object>> replies = desk.Line("{'id':'c2','strategy':'Mom','ticker':'ES','action':'cancel'}");
        Check.Equal("cancelled", DeskHarness.Last(replies, "c1")["status"], "entry cancelled");
        Check.Equal("cancelled", DeskHarness.Last(replies, "c1-sl")["status"], "its stop never comes");
        Check.Equal("cancelled", DeskHarness.Last(replies, "c1-tp")["status"], "nor its target");
        Check.Equal(1, desk.Fake.Orders.Count, "no exit was placed");
    }

    static void AbsoluteExitPassedByTheFillIsRefused()
    {
        DeskHarness desk = new DeskHarness("");
        // the alert said 5000, the market order filled at 4990: a stop at 4995 would sit above the market
        desk.Fake.Last["ES 12-26"] = 4990m;
        List<IDictionary<string, object>> replies = desk.Line(
            "{'id':'w1','strategy':'Mom','ticker':'ES','action':'buy','qty':1,'price':5000,'stop_loss':4995,'take_profit':5010}");
        Check.Equal("stop_loss: 4995 is not below the entry's fill price 4990", DeskHarness.Last(replies, "w1-sl")["reason"], "refused leg");
        Check.Equal("working", DeskHarness.Last(replies, "w1-tp")["status"], "the other leg stands");
        Check.Equal("", desk.Fake.Named("STN tp " + OrderNames.Tag("Mom")).Oco, "alone, no OCO group");
    }

    static void TrailingStopFollowsTheBestPrice()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'t1','strategy':'Mom','ticker':'ES','action':'buy','qty':1,'trailing_stop':{'ticks':4}}");
        Check.That(desk.Fake.Calls.Contains("Watch ES 12-26"), "prices watched");
        FakeOrder trail = desk.Fake.Named("STN trail " + OrderNames.Tag("Mom"));
        Check.Equal(4999.00m, trail.Stop, "4 ticks under the 5000 fill");
        desk.Trade("ES 12-26", 5002m);
        Check.Equal(5001.00m, trail.Stop, "follows a new high");
        desk.Trade("ES 12-26", 5001.5m);
        Check.Equal(5001.00m, trail.Stop, "never backs off");
        List<IDictionary<string, object>> replies = desk.Trade("ES 12-26", 5000.75m);
        Check.Equal("filled", DeskHarness.Last(replies, "t1-trail")["status"], "hit");
        Check.Equal(5000.75m, DeskHarness.Num(DeskHarness.Last(replies, "t1-trail")["avg_price"]), "at the trade's price");
    }

    static void LimitStopAndStopLimitEntries()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'l1','ticker':'ES','action':'sell','qty':1,'order_type':'limit','limit_price':5001,'tif':'gtc'}");
        desk.Line("{'id':'s1','ticker':'ES','action':'buy','qty':1,'order_type':'stop','stop_price':5003}");
        desk.Line("{'id':'sl1','ticker':'ES','action':'buy','qty':1,'order_type':'stop_limit','stop_price':5004,'limit_price':5004.5}");
        Check.Equal(OrderKind.Limit, desk.Fake.Orders[0].Kind, "limit");
        Check.Equal(TifKind.Gtc, desk.Fake.Orders[0].Tif, "gtc");
        Check.Equal(OrderKind.Stop, desk.Fake.Orders[1].Kind, "stop");
        Check.Equal(5004.5m, desk.Fake.Orders[2].Limit, "stop-limit's limit");
        List<IDictionary<string, object>> replies = desk.Trade("ES 12-26", 5001m);
        Check.Equal("filled", DeskHarness.Last(replies, "l1")["status"], "limit at its price");
        replies = desk.Trade("ES 12-26", 5003.5m);
        Check.Equal(5003.5m, DeskHarness.Num(DeskHarness.Last(replies, "s1")["avg_price"]), "stop at the trade's price");
        replies = desk.Trade("ES 12-26", 5005m);
        Check.Equal(null, DeskHarness.Last(replies, "sl1"), "stop-limit triggered, above its limit: still working");
        replies = desk.Trade("ES 12-26", 5004.25m);
        Check.Equal(5004.5m, DeskHarness.Num(DeskHarness.Last(replies, "sl1")["avg_price"]), "then filled at its limit");
    }

    static void ExitFlattensTheInstrument()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'e1','strategy':'Mom','ticker':'ES','action':'buy','qty':2,'stop_loss':{'ticks':8}}");
        desk.Fake.Last["ES 12-26"] = 5003m;
        List<IDictionary<string, object>> replies = desk.Line("{'id':'e2','strategy':'Mom','ticker':'ES','action':'exit','qty':5}");
        Check.That(desk.Fake.Calls.Contains("Flatten Sim101 ES 12-26"), "Account.Flatten");
        Check.Equal("submitted,filled", string.Join(",", DeskHarness.Statuses(replies, "e2")), "statuses");
        IDictionary<string, object> filled = DeskHarness.Last(replies, "e2");
        Check.Equal(2, filled["filled_qty"], "the position's quantity, not the line's");
        Check.Equal(5003m, DeskHarness.Num(filled["avg_price"]), "closing price");
        Check.Equal("cancelled", DeskHarness.Last(replies, "e1-sl")["status"], "its protective stop cancelled");
        Check.Equal(0, replies.Last(r => (string)r["type"] == "position")["qty"], "flat");
        replies = desk.Line("{'id':'e3','strategy':'Mom','ticker':'ES','action':'exit'}");
        Check.Equal("no position in ES 12-26 to exit in Sim101", DeskHarness.Last(replies, "e3")["reason"], "nothing to exit");
    }

    static void ReverseClosesThenOpensTheOtherSide()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'v1','strategy':'Mom','ticker':'ES','action':'buy','qty':1}");
        List<IDictionary<string, object>> replies = desk.Line("{'id':'v2','strategy':'Mom','ticker':'ES','action':'reverse','qty':2,'take_profit':{'ticks':8}}");
        Check.Equal("submitted,working,filled", string.Join(",", DeskHarness.Statuses(replies, "v2")), "statuses of the opening order");
        Check.Equal(2, DeskHarness.Last(replies, "v2")["filled_qty"], "the line's quantity");
        Check.Equal(-2, replies.Last(r => (string)r["type"] == "position")["qty"], "short 2");
        Check.Equal(4998.00m, desk.Fake.Named("STN tp " + OrderNames.Tag("Mom")).Limit, "the new side's exits");
        replies = desk.Line("{'id':'v3','ticker':'AAPL','action':'reverse','qty':1}");
        Check.Equal("no position in AAPL to reverse in Sim101", DeskHarness.Last(replies, "v3")["reason"], "nothing to reverse");
        // short 2 now: a reverse buys, so its stop belongs below the price
        replies = desk.Line("{'id':'v4','ticker':'ES','action':'reverse','qty':1,'price':5000,'stop_loss':5010}");
        Check.Equal("stop_loss: 5010 is not below the alert's price 5000", DeskHarness.Last(replies, "v4")["reason"], "sides checked for the new side");
        Check.Equal(-2, desk.Fake.Position("Sim101", "ES 12-26").Qty, "and nothing flattened");
    }

    static void CancelEndsOnlyThatStrategysWorkingOrders()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'x1','strategy':'A','ticker':'ES','action':'buy','qty':1,'order_type':'limit','limit_price':4900}");
        desk.Line("{'id':'x2','strategy':'A','ticker':'ES','action':'sell','qty':1,'order_type':'limit','limit_price':5100}");
        desk.Line("{'id':'x3','strategy':'B','ticker':'ES','action':'buy','qty':1,'order_type':'limit','limit_price':4900}");
        List<IDictionary<string, object>> replies = desk.Line("{'id':'x4','strategy':'A','ticker':'ES','action':'cancel'}");
        Check.Equal("cancelled", DeskHarness.Last(replies, "x1")["status"], "A's buy");
        Check.Equal("cancelled", DeskHarness.Last(replies, "x2")["status"], "A's sell");
        Check.Equal(null, DeskHarness.Last(replies, "x3"), "B's untouched");
        Check.Equal("submitted,cancelled", string.Join(",", DeskHarness.Statuses(replies, "x4")), "the cancel line");
        Check.Equal("cancelled 2 working order(s)", DeskHarness.Last(replies, "x4")["reason"], "what it did");
        replies = desk.Line("{'id':'x5','strategy':'A','ticker':'ES','action':'cancel'}");
        Check.Equal("no working orders of A in ES 12-26", DeskHarness.Last(replies, "x5")["reason"], "nothing left");
        desk.Desk.Dispose();

        // after a restart, orders are found by their names
        DeskHarness restarted = new DeskHarness("");
        restarted.Line("{'id':'y1','strategy':'B','ticker':'ES','action':'buy','qty':1,'order_type':'limit','limit_price':4900}");
        PortSettings settings = new PortSettings();
        settings.Port = 7001;
        settings.Account = "Sim101";
        settings.Instruments["ES"] = "ES 12-26";
        PortDesk fresh = new PortDesk(settings, restarted.Fake, new RepeatStore(Path.Combine(Check.TempDir(), "s.txt"), 10), m => { });
        List<string> sent = new List<string>();
        CollectingSink sink = new CollectingSink(sent);
        restarted.Fake.OrderUpdated += u => restarted.Box.Post(() => fresh.OnOrderUpdate(u));
        fresh.Attach(sink);
        restarted.Box.Post(() => fresh.OnLine(sink, Check.J("{'id':'y2','strategy':'B','ticker':'ES','action':'cancel'}")));
        restarted.Box.Drain();
        Check.Equal("Cancelled", restarted.Fake.Orders[0].State, "found by its name");
        Check.That(sent.Any(s => s.Contains("\"id\":\"y2\",\"status\":\"cancelled\"")), "and the cancel answered: " + string.Join(" ", sent));
    }

    sealed class CollectingSink : IReplySink
    {
        readonly List<string> sent;
        public CollectingSink(List<string> sent) { this.sent = sent; }
        public void Send(string line) { sent.Add(line); }
    }

    static void AtmTemplateManagesEntriesWithoutExits()
    {
        DeskHarness desk = new DeskHarness("ES 2 targets");
        desk.Fake.AtmTemplates.Add("ES 2 targets");
        List<IDictionary<string, object>> replies = desk.Line(Buy1);
        Check.That(desk.Fake.Calls.Contains("StartAtm ES 2 targets Entry"), "AtmStrategy.StartAtmStrategy with the entry named Entry");
        Check.Equal("filled", DeskHarness.Last(replies, "a1")["status"], "entry filled");
        Check.That(desk.Fake.Named("Stop1") != null && desk.Fake.Named("Target1") != null, "the template's exits");
        desk.Line("{'id':'a2','strategy':'Mom','ticker':'ES','action':'buy','qty':1,'stop_loss':{'ticks':4}}");
        Check.Equal(1, desk.Fake.Calls.Count(c => c.StartsWith("StartAtm")), "a line's own exits win over the template");

        DeskHarness missing = new DeskHarness("No such template");
        replies = missing.Line(Buy1);
        Check.Equal("NinjaTrader could not start the ATM strategy template 'No such template'", DeskHarness.Last(replies, "a1")["reason"], "refused");
    }

    static void RepliesWaitForAConnection()
    {
        DeskHarness desk = new DeskHarness("");
        desk.Line("{'id':'q1','ticker':'ES','action':'buy','qty':1,'order_type':'limit','limit_price':4999}");
        desk.Box.Post(() => desk.Desk.Detach(desk));
        desk.Trade("ES 12-26", 4999m); // fills while Station is away
        List<string> sent = new List<string>();
        CollectingSink back = new CollectingSink(sent);
        desk.Box.Post(() => desk.Desk.Attach(back));
        desk.Box.Drain();
        Check.That(sent.Count >= 2 && sent[0].Contains("\"id\":\"q1\",\"status\":\"filled\""), "the fill first: " + string.Join(" ", sent));
        Check.That(sent.Last().Contains("\"type\":\"position\"") && sent.Last().Contains("\"qty\":1"), "then the positions");
    }

    static void ChangedPortSettingsKeepTheIdsTaken()
    {
        FakeAccountGateway account = new FakeAccountGateway().AddInstrument("ES 12-26", 0.25m, 5000m);
        string dir = Check.TempDir();
        TcpListener probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        ReceiverSettings settings = new ReceiverSettings();
        PortSettings entry = new PortSettings();
        entry.Port = port;
        entry.Account = "Sim101";
        entry.Instruments["ES"] = "ES 12-26";
        settings.Ports.Add(entry);
        using (ReceiverService service = new ReceiverService(account, dir, m => { }))
        {
            service.Apply(settings);
            List<string> first = Exchange(port, "{'id':'g1','ticker':'ES','action':'buy','qty':1}", 4);
            Check.That(first.Any(r => r.Contains("\"status\":\"filled\"")), "traded: " + string.Join(" ", first));

            PortSettings rolled = new PortSettings();
            rolled.Port = port;
            rolled.Account = "Sim101";
            rolled.AtmTemplate = "ES 2 targets";
            rolled.Instruments["ES"] = "ES 03-27";
            settings.Ports[0] = rolled;
            service.Apply(settings); // same port and account: the desk stays, the next lines use the new map
            WaitFor(() => service.Status()[0].Settings.Instruments["ES"] == "ES 03-27", "reconfigured");
            Check.That(service.Status()[0].LastLines.Any(l => l.Contains("settings changed")), "the same desk");

            PortSettings moved = new PortSettings();
            moved.Port = port;
            moved.Account = "Other";
            settings.Ports[0] = moved;
            service.Apply(settings); // another account: the port restarts, its file of ids reread
            List<string> again = Exchange(port, "{'id':'g1','ticker':'ES','action':'buy','qty':1}", 1);
            Check.Equal("{\"type\":\"ack\",\"id\":\"g1\"}", again.FirstOrDefault(), "still dropped");
            Check.Equal(1, account.Orders.Count, "one order");
            Check.Equal("Other", service.Status()[0].Settings.Account, "new settings");
        }
    }

    static void WaitFor(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Check.That(false, what);
                return;
            }
            System.Threading.Thread.Sleep(10);
        }
    }

    /// <summary>Sends one line on a fresh connection and reads <paramref name="count"/> replies (skipping positions).</summary>
    static List<string> Exchange(int port, string json, int count)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using (TcpClient client = new TcpClient())
                {
                    client.Connect(IPAddress.Loopback, port);
                    client.ReceiveTimeout = 10000;
                    NetworkStream stream = client.GetStream();
                    byte[] bytes = Encoding.UTF8.GetBytes(Check.J(json) + "\n");
                    stream.Write(bytes, 0, bytes.Length);
                    StreamReader reader = new StreamReader(stream, Encoding.UTF8);
                    List<string> replies = new List<string>();
                    while (replies.Count < count)
                    {
                        string reply = reader.ReadLine();
                        if (reply == null)
                            break;
                        if (!reply.Contains("\"type\":\"position\""))
                            replies.Add(reply);
                    }
                    return replies;
                }
            }
            catch (SocketException)
            {
                // the port is (re)starting
                if (DateTime.UtcNow > deadline)
                    throw;
                System.Threading.Thread.Sleep(20);
            }
        }
    }
}
