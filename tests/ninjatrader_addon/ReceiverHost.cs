// The receiver as the add-on runs it (ReceiverService: listeners, desks, repeat stores, settings file),
// on a simulated account instead of NinjaTrader's, for test_addon.py to speak to over TCP.
// Usage: mono receiver-host.exe SETTINGS.json DATA_DIR
// Prints "ready" once every port listens; then reads commands on stdin, answering "done" to each:
//   trade <instrument> <price>   a trade prints (working orders it reaches fill; trailing stops move)
//   quit
using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using StationReceiver;

public static class ReceiverHost
{
    static int Main(string[] args)
    {
        FakeAccountGateway account = new FakeAccountGateway().AddInstrument("ES 12-26", 0.25m, 5000m).AddInstrument("AAPL", 0.01m, 150m);
        account.AtmTemplates.Add("ES 2 targets");
        ReceiverService service = new ReceiverService(account, args[1], message => Console.Error.WriteLine(message));
        service.Apply(ReceiverSettings.Load(args[0]));
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (service.Status().Any(s => s.State != "listening"))
        {
            if (DateTime.UtcNow > deadline)
            {
                Console.Error.WriteLine("not listening: " + string.Join(", ", service.Status().Select(s => s.State).ToArray()));
                return 2;
            }
            Thread.Sleep(10);
        }
        Console.WriteLine("ready");
        string line;
        while ((line = Console.ReadLine()) != null && line.Trim() != "quit")
        {
            string[] words = line.Trim().Split(' ');
            if (words[0] == "trade")
                account.Trade(string.Join(" ", words.Skip(1).Take(words.Length - 2).ToArray()),
                    decimal.Parse(words[words.Length - 1], CultureInfo.InvariantCulture));
            else
                Console.Error.WriteLine("unknown command: " + line);
            Console.WriteLine("done " + line);
        }
        service.Dispose();
        return 0;
    }
}
