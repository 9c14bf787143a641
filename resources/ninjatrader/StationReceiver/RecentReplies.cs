// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System.Collections.Generic;

namespace StationReceiver
{
    /// <summary>The latest order reply of each order a line made, so a repeated line is answered with where
    /// its orders stand (Station may have missed replies while it was disconnected). Bounded by lines.</summary>
    public sealed class RecentReplies
    {
        readonly int maxLines;
        readonly Dictionary<string, List<KeyValuePair<string, string>>> byLine =
            new Dictionary<string, List<KeyValuePair<string, string>>>();
        readonly Queue<string> order = new Queue<string>();

        public RecentReplies(int maxLines)
        {
            this.maxLines = maxLines;
        }

        public void Remember(string lineId, string replyId, string reply)
        {
            List<KeyValuePair<string, string>> replies;
            if (!byLine.TryGetValue(lineId, out replies))
            {
                replies = new List<KeyValuePair<string, string>>();
                byLine[lineId] = replies;
                order.Enqueue(lineId);
                while (order.Count > maxLines)
                    byLine.Remove(order.Dequeue());
            }
            for (int i = 0; i < replies.Count; i++)
                if (replies[i].Key == replyId)
                {
                    replies[i] = new KeyValuePair<string, string>(replyId, reply);
                    return;
                }
            replies.Add(new KeyValuePair<string, string>(replyId, reply));
        }

        public List<string> Of(string lineId)
        {
            List<string> result = new List<string>();
            List<KeyValuePair<string, string>> replies;
            if (byLine.TryGetValue(lineId, out replies))
                foreach (KeyValuePair<string, string> pair in replies)
                    result.Add(pair.Value);
            return result;
        }
    }
}
