// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace StationReceiver
{
    /// <summary>One TCP connection: reads lines (UTF-8, one JSON object and "\n" each) on one thread and
    /// writes replies from a queue on another, so a slow reader never holds up the desk.</summary>
    public sealed class LineConnection : IReplySink
    {
        /// <summary>A line longer than this is refused unread (CONTRACT.md caps an alert at 64 KiB).</summary>
        public const int MaxLineBytes = 65536;
        // a peer that stops reading is cut off rather than left to fill NinjaTrader's memory
        const int MaxQueued = 100000;

        readonly TcpClient client;
        readonly NetworkStream stream;
        readonly BlockingCollection<string> outbox = new BlockingCollection<string>();
        readonly Action<LineConnection, string> onLine;
        readonly Action<LineConnection, string> onUnreadable;
        readonly Action<LineConnection> onClose;
        readonly string peer;
        int closed;

        /// <param name="onUnreadable">A line that is no text to parse (too long, not UTF-8), with why: answered
        /// by the desk, so its refusal keeps its place among the replies to the lines around it.</param>
        public LineConnection(TcpClient client, Action<LineConnection, string> onLine,
            Action<LineConnection, string> onUnreadable, Action<LineConnection> onClose)
        {
            this.client = client;
            this.onLine = onLine;
            this.onUnreadable = onUnreadable;
            this.onClose = onClose;
            client.NoDelay = true; // replies are small and Station waits for them
            stream = client.GetStream();
            peer = client.Client.RemoteEndPoint == null ? "?" : client.Client.RemoteEndPoint.ToString();
        }

        public string Peer
        {
            get { return peer; }
        }

        public void Start()
        {
            Thread reader = new Thread(ReadLoop);
            reader.IsBackground = true;
            reader.Name = "Station Receiver read " + peer;
            Thread writer = new Thread(WriteLoop);
            writer.IsBackground = true;
            writer.Name = "Station Receiver write " + peer;
            writer.Start();
            reader.Start();
        }

        public void Send(string line)
        {
            if (closed != 0)
                return;
            if (outbox.Count >= MaxQueued)
            {
                Close();
                return;
            }
            try
            {
                outbox.Add(line);
            }
            catch (InvalidOperationException)
            {
                // closed meanwhile
            }
        }

        void ReadLoop()
        {
            byte[] buffer = new byte[8192];
            MemoryStream line = new MemoryStream();
            bool tooLong = false;
            try
            {
                while (true)
                {
                    int count = stream.Read(buffer, 0, buffer.Length);
                    if (count <= 0)
                        break;
                    int start = 0;
                    for (int i = 0; i < count; i++)
                    {
                        if (buffer[i] != (byte)'\n')
                            continue;
                        Append(line, buffer, start, i - start, ref tooLong);
                        Deliver(line, tooLong);
                        line.SetLength(0);
                        tooLong = false;
                        start = i + 1;
                    }
                    Append(line, buffer, start, count - start, ref tooLong);
                }
            }
            catch (IOException)
            {
                // reset by the peer, or closed by us
            }
            catch (ObjectDisposedException)
            {
            }
            Close();
        }

        static void Append(MemoryStream line, byte[] buffer, int start, int count, ref bool tooLong)
        {
            if (count <= 0 || tooLong)
                return;
            if (line.Length + count > MaxLineBytes)
            {
                tooLong = true; // the rest of this line is skipped up to its "\n"
                line.SetLength(0);
                return;
            }
            line.Write(buffer, start, count);
        }

        void Deliver(MemoryStream line, bool tooLong)
        {
            if (tooLong)
            {
                onUnreadable(this, "line is longer than " + MaxLineBytes + " bytes");
                return;
            }
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(line.GetBuffer(), 0, (int)line.Length);
            }
            catch (ArgumentException)
            {
                onUnreadable(this, "line is not UTF-8 text");
                return;
            }
            text = text.TrimEnd('\r');
            if (text.Trim().Length == 0)
                return; // blank lines (keep-alives) say nothing
            onLine(this, text);
        }

        void WriteLoop()
        {
            try
            {
                foreach (string line in outbox.GetConsumingEnumerable())
                {
                    byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
                    stream.Write(bytes, 0, bytes.Length);
                }
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
            catch (InvalidOperationException)
            {
            }
            Close();
        }

        /// <summary>Ends the connection once; the desk hears of it through onClose.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref closed, 1) != 0)
                return;
            outbox.CompleteAdding();
            try
            {
                client.Close();
            }
            catch (Exception)
            {
                // closing a broken socket may complain: it is closed either way
            }
            onClose(this);
        }
    }
}
