// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace StationReceiver
{
    /// <summary>The latest order reply of each order a line made, and when it changed: a repeated line is
    /// answered with where its orders stand, and a new connection gets the news it may have missed.
    /// Bounded by lines.</summary>
    public sealed class RecentReplies
    {
        sealed class Line
        {
            public readonly List<KeyValuePair<string, string>> Replies = new List<KeyValuePair<string, string>>();
            public TimeSpan Changed;
        }

        readonly int maxLines;
        readonly Dictionary<string, Line> byLine = new Dictionary<string, Line>();
        readonly Queue<string> order = new Queue<string>();
        // a monotonic clock: news is ordered by it, whatever the wall clock does
        readonly Stopwatch clock = Stopwatch.StartNew();

        public RecentReplies(int maxLines)
        {
            this.maxLines = maxLines;
        }

        public TimeSpan Now
        {
            get { return clock.Elapsed; }
        }

        public void Remember(string lineId, string replyId, string reply)
        {
            Line line;
            if (!byLine.TryGetValue(lineId, out line))
            {
                line = new Line();
                byLine[lineId] = line;
                order.Enqueue(lineId);
                while (order.Count > maxLines)
                    byLine.Remove(order.Dequeue());
            }
            line.Changed = clock.Elapsed;
            for (int i = 0; i < line.Replies.Count; i++)
                if (line.Replies[i].Key == replyId)
                {
                    line.Replies[i] = new KeyValuePair<string, string>(replyId, reply);
                    return;
                }
            line.Replies.Add(new KeyValuePair<string, string>(replyId, reply));
        }

        public List<string> Of(string lineId)
        {
            List<string> result = new List<string>();
            Line line;
            if (byLine.TryGetValue(lineId, out line))
                foreach (KeyValuePair<string, string> pair in line.Replies)
                    result.Add(pair.Value);
            return result;
        }

        /// <summary>The latest replies of the lines that changed at or after <paramref name="since"/>, the
        /// least recently changed line first.</summary>
        public List<string> Since(TimeSpan since)
        {
            List<KeyValuePair<string, Line>> changed = new List<KeyValuePair<string, Line>>();
            foreach (KeyValuePair<string, Line> pair in byLine)
                if (pair.Value.Changed >= since)
                    changed.Add(pair);
            changed.Sort(delegate(KeyValuePair<string, Line> a, KeyValuePair<string, Line> b) { return a.Value.Changed.CompareTo(b.Value.Changed); });
            List<string> result = new List<string>();
            foreach (KeyValuePair<string, Line> pair in changed)
                foreach (KeyValuePair<string, string> reply in pair.Value.Replies)
                    result.Add(reply.Value);
            return result;
        }
    }
}
