// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Concurrent;
using System.Threading;

namespace StationReceiver
{
    /// <summary>Runs posted work one item at a time on one thread. Socket threads and NinjaTrader's event
    /// threads only post here, so the desks need no locks, and an account event raised from inside
    /// Account.Submit is handled after the submit, never re-entering the desk or holding up NinjaTrader.</summary>
    public sealed class Mailbox
    {
        readonly BlockingCollection<Action> queue = new BlockingCollection<Action>();
        readonly Action<string> log;
        Thread thread;

        public Mailbox(Action<string> log)
        {
            this.log = log;
        }

        public void Post(Action work)
        {
            try
            {
                queue.Add(work);
            }
            catch (InvalidOperationException)
            {
                // stopped: late events from NinjaTrader or sockets are dropped
            }
        }

        public void Start()
        {
            thread = new Thread(Run);
            thread.IsBackground = true;
            thread.Name = "Station Receiver";
            thread.Start();
        }

        void Run()
        {
            foreach (Action work in queue.GetConsumingEnumerable())
                RunOne(work);
        }

        /// <summary>Runs, on the caller's thread, everything posted until the queue is empty (for tests that
        /// drive a desk without the thread).</summary>
        public int Drain()
        {
            int count = 0;
            Action work;
            while (queue.TryTake(out work))
            {
                RunOne(work);
                count++;
            }
            return count;
        }

        void RunOne(Action work)
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                // one failing item must not end the receiver, nor throw into NinjaTrader
                log("unexpected error: " + e);
            }
        }

        public void Stop(TimeSpan wait)
        {
            queue.CompleteAdding();
            if (thread != null && thread != Thread.CurrentThread)
                thread.Join(wait);
        }
    }
}
