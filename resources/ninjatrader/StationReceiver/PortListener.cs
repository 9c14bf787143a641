// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace StationReceiver
{
    /// <summary>Listens on 127.0.0.1:port only (Station runs on the same PC; nothing else may trade the
    /// account), and retries while the port is taken, e.g. by the add-on's previous copy during a recompile.</summary>
    public sealed class PortListener
    {
        static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

        readonly int port;
        readonly Action<LineConnection> onOpen;
        readonly Action<LineConnection, string> onLine;
        readonly Action<LineConnection, string> onUnreadable;
        readonly Action<LineConnection> onClose;
        readonly Action<string> log;
        readonly List<LineConnection> open = new List<LineConnection>();
        readonly ManualResetEvent stopping = new ManualResetEvent(false);
        TcpListener listener;
        Thread thread;
        volatile string state = "starting";

        public PortListener(int port, Action<LineConnection> onOpen, Action<LineConnection, string> onLine,
            Action<LineConnection, string> onUnreadable, Action<LineConnection> onClose, Action<string> log)
        {
            this.port = port;
            this.onOpen = onOpen;
            this.onLine = onLine;
            this.onUnreadable = onUnreadable;
            this.onClose = onClose;
            this.log = log;
        }

        /// <summary>"listening", or why not (read from any thread).</summary>
        public string State
        {
            get { return state; }
        }

        public void Start()
        {
            thread = new Thread(Run);
            thread.IsBackground = true;
            thread.Name = "Station Receiver port " + port;
            thread.Start();
        }

        void Run()
        {
            while (!stopping.WaitOne(0))
            {
                TcpListener bound = null;
                try
                {
                    bound = new TcpListener(IPAddress.Loopback, port);
                    bound.Start();
                    lock (open)
                    {
                        if (stopping.WaitOne(0))
                            return;
                        listener = bound;
                    }
                    state = "listening";
                    log("port " + port + ": listening on 127.0.0.1:" + port);
                    Accept(bound);
                }
                catch (SocketException e)
                {
                    if (stopping.WaitOne(0))
                        return;
                    state = "cannot listen: " + e.Message;
                    log("port " + port + ": " + state + "; trying again");
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                finally
                {
                    if (bound != null)
                        bound.Stop(); // an accept that failed for another reason must free the port to bind again
                }
                stopping.WaitOne(Retry);
            }
        }

        void Accept(TcpListener bound)
        {
            while (true)
            {
                TcpClient client = bound.AcceptTcpClient();
                LineConnection connection = new LineConnection(client, onLine, onUnreadable, Closed);
                lock (open)
                {
                    if (stopping.WaitOne(0))
                    {
                        client.Close();
                        return;
                    }
                    open.Add(connection);
                }
                onOpen(connection);
                connection.Start();
            }
        }

        void Closed(LineConnection connection)
        {
            lock (open)
                open.Remove(connection);
            onClose(connection);
        }

        public void Stop()
        {
            List<LineConnection> connections;
            lock (open)
            {
                stopping.Set();
                if (listener != null)
                    listener.Stop();
                connections = new List<LineConnection>(open);
            }
            foreach (LineConnection connection in connections)
                connection.Close();
            if (thread != null)
                thread.Join(TimeSpan.FromSeconds(5));
            state = "stopped";
        }
    }
}
