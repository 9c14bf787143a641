// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace StationReceiver
{
    /// <summary>A port as the window shows it.</summary>
    public sealed class PortStatus
    {
        public PortSettings Settings;
        public string State;
        public int Connections;
        public List<string> LastLines;
    }

    /// <summary>The receiver: one listener and one desk per configured port, all desks on one mailbox
    /// thread, all trading through one account gateway. The add-on starts one; the tests start one with a
    /// simulated account.</summary>
    public sealed class ReceiverService : IDisposable
    {
        /// <summary>Ids remembered per port: this many per generation, two generations (see RepeatStore).</summary>
        public const int SeenCapacity = 100000;

        readonly IAccountGateway gateway;
        readonly string dataDir;
        readonly Action<string> log;
        readonly Mailbox mailbox;
        readonly object gate = new object();
        readonly Dictionary<int, Port> ports = new Dictionary<int, Port>();
        bool stopped;

        sealed class Port
        {
            public PortDesk Desk;
            public PortListener Listener;
        }

        /// <param name="dataDir">Where each port keeps its file of ids taken (seen-PORT.txt).</param>
        public ReceiverService(IAccountGateway gateway, string dataDir, Action<string> log)
        {
            this.gateway = gateway;
            this.dataDir = dataDir;
            this.log = log;
            mailbox = new Mailbox(log);
            gateway.OrderUpdated += delegate(OrderUpdate update) { mailbox.Post(delegate { ForEachDesk(d => d.OnOrderUpdate(update)); }); };
            gateway.Executed += delegate(ExecutionReport execution) { mailbox.Post(delegate { ForEachDesk(d => d.OnExecuted(execution)); }); };
            gateway.PositionChanged += delegate(PositionReport position) { mailbox.Post(delegate { ForEachDesk(d => d.OnPositionChanged(position)); }); };
            gateway.LastPrice += delegate(PriceTick tick) { mailbox.Post(delegate { ForEachDesk(d => d.OnLastPrice(tick)); }); };
            mailbox.Start();
        }

        void ForEachDesk(Action<PortDesk> action)
        {
            List<PortDesk> desks = new List<PortDesk>();
            lock (gate)
                foreach (Port port in ports.Values)
                    desks.Add(port.Desk);
            foreach (PortDesk desk in desks)
                action(desk);
        }

        /// <summary>Listens on the ports in <paramref name="settings"/>: a port whose account stays keeps its
        /// connections and orders (a new instrument map or ATM template applies to the next lines), a port
        /// given another account restarts, ports no longer listed stop.</summary>
        public void Apply(ReceiverSettings settings)
        {
            string problem = settings.Problem();
            if (problem != null)
                throw new ArgumentException(problem);
            Dictionary<int, PortSettings> wanted = new Dictionary<int, PortSettings>();
            foreach (PortSettings port in settings.Ports)
                wanted[port.Port] = port;
            List<Port> retired = new List<Port>();
            lock (gate)
            {
                if (stopped)
                    throw new InvalidOperationException("the receiver is stopped");
                foreach (KeyValuePair<int, Port> pair in new List<KeyValuePair<int, Port>>(ports))
                {
                    PortSettings next;
                    PortDesk desk = pair.Value.Desk;
                    if (wanted.TryGetValue(pair.Key, out next) && next.Account == desk.Settings.Account)
                    {
                        wanted.Remove(pair.Key);
                        if (!next.SameAs(desk.Settings))
                            mailbox.Post(delegate { desk.Reconfigure(next); });
                        continue;
                    }
                    retired.Add(pair.Value);
                    ports.Remove(pair.Key);
                }
            }
            foreach (Port port in retired)
                Retire(port);
            foreach (PortSettings port in wanted.Values)
                Open(port);
        }

        void Open(PortSettings settings)
        {
            Directory.CreateDirectory(dataDir);
            RepeatStore seen = new RepeatStore(Path.Combine(dataDir, "seen-" + settings.Port + ".txt"), SeenCapacity);
            Port port = new Port();
            port.Desk = new PortDesk(settings, gateway, seen, log);
            PortDesk desk = port.Desk;
            port.Listener = new PortListener(settings.Port,
                delegate(LineConnection c) { mailbox.Post(delegate { desk.Attach(c); }); },
                delegate(LineConnection c, string line) { mailbox.Post(delegate { desk.OnLine(c, line); }); },
                delegate(LineConnection c, string why) { mailbox.Post(delegate { desk.OnUnreadable(c, why); }); },
                delegate(LineConnection c) { mailbox.Post(delegate { desk.Detach(c); }); },
                log);
            lock (gate)
                ports[settings.Port] = port;
            port.Listener.Start();
        }

        /// <summary>Stops the port, then waits until its desk has done the work queued for it and closed its
        /// file of ids: a port reopened with new settings reads that file whole (and Windows would refuse to
        /// open it for writing twice).</summary>
        void Retire(Port port)
        {
            port.Listener.Stop();
            PortDesk desk = port.Desk;
            // not disposed: after a timeout the desk's work may still set it
            ManualResetEvent closed = new ManualResetEvent(false);
            mailbox.Post(delegate
            {
                try
                {
                    desk.Dispose();
                }
                finally
                {
                    closed.Set();
                }
            });
            if (!closed.WaitOne(TimeSpan.FromSeconds(10)))
                log("port " + desk.Settings.Port + ": its desk did not close within 10 s");
        }

        public List<PortStatus> Status()
        {
            List<PortStatus> result = new List<PortStatus>();
            lock (gate)
                foreach (KeyValuePair<int, Port> pair in ports)
                {
                    PortStatus status = new PortStatus();
                    status.Settings = pair.Value.Desk.Settings;
                    status.State = pair.Value.Listener.State;
                    status.Connections = pair.Value.Desk.Connections;
                    status.LastLines = pair.Value.Desk.History.Snapshot();
                    result.Add(status);
                }
            result.Sort(delegate(PortStatus a, PortStatus b) { return a.Settings.Port.CompareTo(b.Settings.Port); });
            return result;
        }

        public void Dispose()
        {
            List<Port> all;
            lock (gate)
            {
                if (stopped)
                    return;
                stopped = true;
                all = new List<Port>(ports.Values);
                ports.Clear();
            }
            foreach (Port port in all)
                Retire(port);
            mailbox.Stop(TimeSpan.FromSeconds(5));
        }
    }
}
