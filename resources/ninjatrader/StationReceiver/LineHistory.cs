// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>The last lines a port received and sent, for the window. Thread-safe.</summary>
    public sealed class LineHistory
    {
        readonly int size;
        readonly Queue<string> lines = new Queue<string>();
        readonly object gate = new object();

        public LineHistory(int size)
        {
            this.size = size;
        }

        public void Received(string line)
        {
            Add("in  ", line);
        }

        public void Sent(string line)
        {
            Add("out ", line);
        }

        public void Note(string text)
        {
            Add("--  ", text);
        }

        void Add(string direction, string line)
        {
            // a window shows a line, not a megabyte: long lines are cut
            string shown = line.Length > 500 ? line.Substring(0, 500) + "…" : line;
            lock (gate)
            {
                lines.Enqueue(DateTime.Now.ToString("HH:mm:ss.fff") + " " + direction + shown);
                while (lines.Count > size)
                    lines.Dequeue();
            }
        }

        public List<string> Snapshot()
        {
            lock (gate)
                return new List<string>(lines);
        }
    }
}
