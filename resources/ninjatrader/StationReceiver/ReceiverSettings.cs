// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace StationReceiver
{
    /// <summary>One port: the account its lines trade in, Station tickers mapped to NinjaTrader instruments,
    /// and optionally an ATM strategy template for entries that carry no exits of their own.</summary>
    public sealed class PortSettings
    {
        public int Port;
        public string Account = "";
        public string AtmTemplate = "";
        public Dictionary<string, string> Instruments = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The NinjaTrader instrument for a line's ticker, which is the alert's as TradingView sent it: the
        /// one mapped to it as sent, else to it without its exchange (<c>NASDAQ:AAPL</c>: AAPL), else, for a
        /// continuous future (<c>CME_MINI:ES1!</c>), to its root (ES), as Station reads it; unmapped, the ticker
        /// without its exchange (NinjaTrader's names carry none).</summary>
        public string InstrumentFor(string ticker)
        {
            string name;
            if (Instruments.TryGetValue(ticker, out name))
                return name;
            string bare = ticker.Substring(ticker.LastIndexOf(':') + 1).Trim();
            if (Instruments.TryGetValue(bare, out name))
                return name;
            string root = ContinuousRoot(bare);
            if (root != null && Instruments.TryGetValue(root, out name))
                return name;
            return bare.Length > 0 ? bare : ticker;
        }

        /// <summary>ES for TradingView's ES1! or ES2! (a root of letters and digits, the month's rank, "!"), else
        /// null; Station routes every rank's alert to the root's strategy.</summary>
        static string ContinuousRoot(string symbol)
        {
            if (!symbol.EndsWith("!"))
                return null;
            int end = symbol.Length - 1, digits = end;
            while (digits > 0 && char.IsDigit(symbol[digits - 1]))
                digits--;
            return digits < end && digits > 0 && end - digits <= 2 ? symbol.Substring(0, digits) : null;
        }

        public bool SameAs(PortSettings other)
        {
            return other != null && Port == other.Port && Account == other.Account && AtmTemplate == other.AtmTemplate
                && InstrumentMapText.Format(Instruments) == InstrumentMapText.Format(other.Instruments);
        }
    }

    /// <summary>The receiver's settings file: <c>{"ports": [{"port", "account", "atm_template", "instruments"}]}</c>.</summary>
    public sealed class ReceiverSettings
    {
        public List<PortSettings> Ports = new List<PortSettings>();

        /// <summary>Null when every port is usable, else what is wrong with the first bad one.</summary>
        public string Problem()
        {
            HashSet<int> seen = new HashSet<int>();
            foreach (PortSettings port in Ports)
            {
                if (port.Port < 1 || port.Port > 65535)
                    return "port " + port.Port + " is not between 1 and 65535";
                if (!seen.Add(port.Port))
                    return "port " + port.Port + " is listed twice";
                if (string.IsNullOrEmpty(port.Account == null ? null : port.Account.Trim()))
                    return "port " + port.Port + " has no account";
            }
            return null;
        }

        public static ReceiverSettings Load(string path)
        {
            ReceiverSettings settings = new ReceiverSettings();
            if (!File.Exists(path))
                return settings;
            string error;
            IDictionary<string, object> obj = Json.ParseObject(File.ReadAllText(path, Encoding.UTF8), out error);
            if (obj == null)
                throw new InvalidDataException(path + ": " + error);
            object ports;
            if (!obj.TryGetValue("ports", out ports) || ports == null)
                return settings;
            System.Collections.IEnumerable list = ports as System.Collections.IEnumerable;
            if (list == null || ports is string)
                throw new InvalidDataException(path + ": \"ports\" is not a list");
            foreach (object item in list)
            {
                IDictionary<string, object> entry = item as IDictionary<string, object>;
                if (entry == null)
                    throw new InvalidDataException(path + ": a port is not an object");
                settings.Ports.Add(ReadPort(entry, path));
            }
            string problem = settings.Problem();
            if (problem != null)
                throw new InvalidDataException(path + ": " + problem);
            return settings;
        }

        static PortSettings ReadPort(IDictionary<string, object> entry, string path)
        {
            PortSettings port = new PortSettings();
            decimal number;
            object raw;
            if (!entry.TryGetValue("port", out raw) || !Numbers.TryParse(raw, out number)
                || number != decimal.Truncate(number) || number < 1 || number > 65535)
                throw new InvalidDataException(path + ": a port number is missing or not between 1 and 65535");
            port.Port = (int)number;
            port.Account = Text(entry, "account");
            port.AtmTemplate = Text(entry, "atm_template");
            if (entry.TryGetValue("instruments", out raw) && raw != null)
            {
                IDictionary<string, object> map = raw as IDictionary<string, object>;
                if (map == null)
                    throw new InvalidDataException(path + ": port " + port.Port + ": \"instruments\" is not an object");
                foreach (KeyValuePair<string, object> pair in map)
                    if (pair.Value is string && ((string)pair.Value).Trim().Length > 0)
                        port.Instruments[pair.Key.Trim()] = ((string)pair.Value).Trim();
            }
            return port;
        }

        static string Text(IDictionary<string, object> entry, string key)
        {
            object raw;
            return entry.TryGetValue(key, out raw) && raw is string ? ((string)raw).Trim() : "";
        }

        /// <summary>Writes the settings whole, then moves them into place, so a crash never leaves half a file.</summary>
        public void Save(string path)
        {
            List<object> ports = new List<object>();
            foreach (PortSettings port in Ports)
            {
                Dictionary<string, object> entry = new Dictionary<string, object>();
                entry["port"] = port.Port;
                entry["account"] = port.Account;
                entry["atm_template"] = port.AtmTemplate;
                Dictionary<string, object> map = new Dictionary<string, object>();
                foreach (KeyValuePair<string, string> pair in port.Instruments)
                    map[pair.Key] = pair.Value;
                entry["instruments"] = map;
                ports.Add(entry);
            }
            Dictionary<string, object> root = new Dictionary<string, object>();
            root["ports"] = ports;
            string directory = Path.GetDirectoryName(Path.GetFullPath(path));
            Directory.CreateDirectory(directory);
            string temp = path + ".tmp";
            File.WriteAllText(temp, Json.Write(root) + "\n", new UTF8Encoding(false));
            if (File.Exists(path))
                File.Replace(temp, path, null);
            else
                File.Move(temp, path);
        }
    }

    /// <summary>The instrument map as the window edits it: <c>ES=ES 12-26; NQ=NQ 12-26</c>.</summary>
    public static class InstrumentMapText
    {
        public static string Format(IDictionary<string, string> map)
        {
            List<string> keys = new List<string>(map.Keys);
            keys.Sort(StringComparer.OrdinalIgnoreCase);
            StringBuilder text = new StringBuilder();
            foreach (string key in keys)
            {
                if (text.Length > 0)
                    text.Append("; ");
                text.Append(key).Append('=').Append(map[key]);
            }
            return text.ToString();
        }

        /// <summary>The map in <paramref name="text"/>, or null with <paramref name="error"/> saying which entry is wrong.</summary>
        public static Dictionary<string, string> Parse(string text, out string error)
        {
            error = null;
            Dictionary<string, string> map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string part in (text ?? "").Split(';'))
            {
                string entry = part.Trim();
                if (entry.Length == 0)
                    continue;
                int equals = entry.IndexOf('=');
                string ticker = equals < 0 ? "" : entry.Substring(0, equals).Trim();
                string instrument = equals < 0 ? "" : entry.Substring(equals + 1).Trim();
                if (ticker.Length == 0 || instrument.Length == 0)
                {
                    error = "'" + entry + "' is not TICKER=INSTRUMENT (e.g. ES=ES 12-26)";
                    return null;
                }
                if (map.ContainsKey(ticker))
                {
                    error = "ticker " + ticker + " is mapped twice";
                    return null;
                }
                map[ticker] = instrument;
            }
            return map;
        }
    }
}
