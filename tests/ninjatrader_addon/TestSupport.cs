// Assertions and a desk driven without threads, for the receiver's core tests under Mono.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StationReceiver;

public static class Check
{
    public static int Failures;
    public static string Current = "";

    public static void That(bool condition, string what)
    {
        if (condition)
            return;
        Failures++;
        Console.Error.WriteLine("FAIL " + Current + ": " + what);
    }

    public static void Equal(object expected, object actual, string what)
    {
        That(Equals(expected, actual), what + ": expected <" + expected + ">, got <" + actual + ">");
    }

    /// <summary>Single quotes for double quotes: JSON lines readable in C# source.</summary>
    public static string J(string text)
    {
        return text.Replace('\'', '"');
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "station-receiver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>One desk on a simulated account; work runs when the test drains the mailbox.</summary>
public sealed class DeskHarness : IReplySink
{
    public readonly FakeAccountGateway Fake;
    public readonly PortDesk Desk;
    public readonly Mailbox Box;
    public readonly string Dir;
    readonly List<string> received = new List<string>();

    public DeskHarness(string atmTemplate)
        : this(atmTemplate, Check.TempDir())
    {
    }

    public DeskHarness(string atmTemplate, string dir)
    {
        Dir = dir;
        Fake = new FakeAccountGateway().AddInstrument("ES 12-26", 0.25m, 5000m).AddInstrument("AAPL", 0.01m, 150m);
        PortSettings settings = new PortSettings();
        settings.Port = 7001;
        settings.Account = "Sim101";
        settings.AtmTemplate = atmTemplate;
        settings.Instruments["ES"] = "ES 12-26";
        Box = new Mailbox(message => Console.Error.WriteLine("log: " + message));
        Desk = new PortDesk(settings, Fake, new RepeatStore(Path.Combine(dir, "seen-7001.txt"), 1000),
            message => Console.Error.WriteLine("log: " + message));
        Fake.OrderUpdated += u => Box.Post(() => Desk.OnOrderUpdate(u));
        Fake.Executed += e => Box.Post(() => Desk.OnExecuted(e));
        Fake.PositionChanged += p => Box.Post(() => Desk.OnPositionChanged(p));
        Fake.LastPrice += t => Box.Post(() => Desk.OnLastPrice(t));
        Desk.Attach(this);
    }

    public void Send(string line)
    {
        received.Add(line);
    }

    public List<IDictionary<string, object>> Line(string json)
    {
        Box.Post(() => Desk.OnLine(this, Check.J(json)));
        return Take();
    }

    public List<IDictionary<string, object>> Trade(string instrument, decimal price)
    {
        Fake.Trade(instrument, price);
        return Take();
    }

    /// <summary>Everything replied since the last call, parsed.</summary>
    public List<IDictionary<string, object>> Take()
    {
        Box.Drain();
        List<IDictionary<string, object>> replies = new List<IDictionary<string, object>>();
        foreach (string line in received)
        {
            string error;
            IDictionary<string, object> reply = Json.ParseObject(line, out error);
            Check.That(reply != null, "reply is JSON: " + line);
            if (reply != null)
                replies.Add(reply);
        }
        received.Clear();
        return replies;
    }

    public static List<IDictionary<string, object>> For(List<IDictionary<string, object>> replies, string id)
    {
        return replies.Where(r => (r["type"] as string) == "order" && (r["id"] as string) == id).ToList();
    }

    public static List<string> Statuses(List<IDictionary<string, object>> replies, string id)
    {
        return For(replies, id).Select(r => (string)r["status"]).ToList();
    }

    public static IDictionary<string, object> Last(List<IDictionary<string, object>> replies, string id)
    {
        return For(replies, id).LastOrDefault();
    }

    public static decimal? Num(object value)
    {
        if (value == null)
            return null;
        decimal d;
        Numbers.TryParse(value, out d);
        return d;
    }
}
