// Station Receiver for NinjaTrader 8: protocol core (plain C#, no NinjaTrader types).
using System;
using System.Collections.Generic;
using System.Web.Script.Serialization;

namespace StationReceiver
{
    /// <summary>JSON in and out through the BCL's JavaScriptSerializer (System.Web.Extensions), which
    /// NinjaTrader's own NinjaScript project references and which Mono ships too.</summary>
    public static class Json
    {
        /// <summary>The JSON object in <paramref name="text"/>, or null with <paramref name="error"/> saying why.</summary>
        public static IDictionary<string, object> ParseObject(string text, out string error)
        {
            error = null;
            object value;
            try
            {
                // A serializer per call: the class is not documented as safe to share between threads.
                value = new JavaScriptSerializer().DeserializeObject(text);
            }
            catch (Exception e)
            {
                // Bad input must never throw into NinjaTrader: every parser failure becomes a reason.
                error = "not valid JSON (" + e.Message + ")";
                return null;
            }
            IDictionary<string, object> obj = value as IDictionary<string, object>;
            if (obj == null)
                error = value == null ? "empty line" : "not a JSON object";
            return obj;
        }

        /// <summary>One line of JSON for <paramref name="obj"/> (no line break).</summary>
        public static string Write(IDictionary<string, object> obj)
        {
            return new JavaScriptSerializer().Serialize(obj);
        }
    }
}
