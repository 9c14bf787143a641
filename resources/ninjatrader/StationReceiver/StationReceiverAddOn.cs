// Station Receiver for NinjaTrader 8: the add-on that runs the receiver and opens its window.
#region Using declarations
using System;
using System.IO;
using System.Windows;
using NinjaTrader.Gui;
using NinjaTrader.Gui.Tools;
using StationReceiver;
#endregion

namespace NinjaTrader.NinjaScript.AddOns
{
    /// <summary>Starts the Station Receiver with NinjaTrader (listening on the ports in its settings file)
    /// and adds "Station Receiver" to the Control Center's New menu.</summary>
    public class StationReceiverAddOn : AddOnBase
    {
        // NinjaTrader makes more than one instance of an add-on (e.g. to list it): one runs the receiver
        static readonly object Gate = new object();
        static StationReceiverAddOn runner;
        static ReceiverService service;
        static NinjaTraderGateway gateway;

        NTMenuItem menuItem;
        NTMenuItem newMenu;

        /// <summary>Documents\NinjaTrader 8\StationReceiver: settings.json and the ids each port took.</summary>
        public static string DataDir
        {
            get { return Path.Combine(NinjaTrader.Core.Globals.UserDataDir, "StationReceiver"); }
        }

        public static string SettingsPath
        {
            get { return Path.Combine(DataDir, "settings.json"); }
        }

        /// <summary>The receiver this add-on runs, or null before it started (or after it stopped).</summary>
        public static ReceiverService Running
        {
            get
            {
                lock (Gate)
                    return service;
            }
        }

        protected override void OnStateChange()
        {
            if (State == State.SetDefaults)
            {
                Name = "Station Receiver";
                Description = "Takes Station's order lines on 127.0.0.1 ports and trades them in NinjaTrader accounts.";
            }
            else if (State == State.Active)
                Start();
            else if (State == State.Terminated)
                Stop(); // also on a recompile: the new copy must find the ports free
        }

        void Start()
        {
            lock (Gate)
            {
                if (service != null)
                    return;
                runner = this;
                gateway = new NinjaTraderGateway();
                service = new ReceiverService(gateway, DataDir, Note);
            }
            try
            {
                service.Apply(ReceiverSettings.Load(SettingsPath));
            }
            catch (Exception e)
            {
                // the window shows no ports then, and saving there writes a good file
                Note("could not use " + SettingsPath + ": " + e.Message);
            }
        }

        void Stop()
        {
            lock (Gate)
            {
                if (runner != this)
                    return;
                try
                {
                    service.Dispose();
                    gateway.Dispose();
                }
                catch (Exception e)
                {
                    Note("stopping: " + e.Message);
                }
                service = null;
                gateway = null;
                runner = null;
            }
        }

        // to NinjaScript Output, where NinjaScript's own messages go
        static void Note(string message)
        {
            NinjaTrader.Code.Output.Process("[Station Receiver] " + message, PrintTo.OutputTab1);
        }

        protected override void OnWindowCreated(Window window)
        {
            ControlCenter controlCenter = window as ControlCenter;
            if (controlCenter == null)
                return;
            newMenu = controlCenter.FindFirst("ControlCenterMenuItemNew") as NTMenuItem;
            if (newMenu == null)
                return;
            menuItem = new NTMenuItem();
            menuItem.Header = "Station Receiver";
            menuItem.Style = Application.Current.TryFindResource("MainMenuItem") as Style;
            newMenu.Items.Add(menuItem);
            menuItem.Click += OnMenuItemClick;
        }

        protected override void OnWindowDestroyed(Window window)
        {
            if (menuItem == null || !(window is ControlCenter))
                return;
            if (newMenu != null && newMenu.Items.Contains(menuItem))
                newMenu.Items.Remove(menuItem);
            menuItem.Click -= OnMenuItemClick;
            menuItem = null;
        }

        void OnMenuItemClick(object sender, RoutedEventArgs e)
        {
            NinjaTrader.Core.Globals.RandomDispatcher.InvokeAsync(new Action(() => new StationReceiverWindow().Show()));
        }
    }
}
