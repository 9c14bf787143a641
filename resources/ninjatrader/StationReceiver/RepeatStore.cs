// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace StationReceiver
{
    /// <summary>The ids of lines already taken, one a line in an append-only file, so a line Station sends
    /// again (after a reconnect, or after NinjaTrader restarts) is dropped. Bounded: when the file holds
    /// <c>capacity</c> ids it becomes <c>&lt;file&gt;.old</c> and a new file starts, so the newest
    /// <c>capacity</c> to <c>2 × capacity</c> ids are remembered. Not thread-safe: the desk's thread owns it.</summary>
    public sealed class RepeatStore : IDisposable
    {
        readonly string path;
        readonly string oldPath;
        readonly int capacity;
        HashSet<string> current = new HashSet<string>(StringComparer.Ordinal);
        HashSet<string> old = new HashSet<string>(StringComparer.Ordinal);
        FileStream stream;

        public RepeatStore(string path, int capacity)
        {
            if (capacity < 1)
                throw new ArgumentOutOfRangeException("capacity");
            this.path = path;
            this.oldPath = path + ".old";
            this.capacity = capacity;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path)));
            ReadInto(oldPath, old);
            bool torn = ReadInto(path, current);
            stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            if (torn)
                Write("\n"); // a crash cut the last id short: end it, so the next id starts a line of its own
        }

        public int Count
        {
            get { return current.Count + old.Count; }
        }

        public bool Contains(string id)
        {
            return current.Contains(id) || old.Contains(id);
        }

        /// <summary>Records <paramref name="id"/> on disk before returning, so an order placed after this call
        /// is never placed again for the same line, whatever happens next.</summary>
        public void Add(string id)
        {
            if (id.IndexOf('\n') >= 0 || id.IndexOf('\r') >= 0)
                throw new ArgumentException("an id may not contain a line break");
            if (Contains(id))
                return;
            Write(id + "\n");
            current.Add(id);
            if (current.Count >= capacity)
                Rotate();
        }

        void Write(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            stream.Write(bytes, 0, bytes.Length);
            stream.Flush(true);
        }

        void Rotate()
        {
            stream.Dispose();
            if (File.Exists(oldPath))
                File.Delete(oldPath);
            File.Move(path, oldPath);
            old = current;
            current = new HashSet<string>(StringComparer.Ordinal);
            stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        }

        /// <summary>Reads the ids in <paramref name="file"/>; true when its last line has no line break
        /// (a write cut short), which is then not taken as an id.</summary>
        static bool ReadInto(string file, HashSet<string> ids)
        {
            if (!File.Exists(file))
                return false;
            string text = File.ReadAllText(file, Encoding.UTF8);
            string[] lines = text.Split('\n');
            // the piece after the last '\n' is empty for a whole file, else a torn id
            for (int i = 0; i < lines.Length - 1; i++)
                if (lines[i].Length > 0)
                    ids.Add(lines[i]);
            return lines[lines.Length - 1].Length > 0;
        }

        public void Dispose()
        {
            if (stream != null)
                stream.Dispose();
            stream = null;
        }
    }
}
