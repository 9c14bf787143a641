// Station Receiver for NinjaTrader 8: the window listing port -> account and each port's last lines.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Windows;
using System.Windows.Controls;
using System.Windows.Threading;

namespace StationReceiver
{
    /// <summary>Ports and their accounts (with the instrument map and ATM template), each port's state and
    /// last lines. Saving writes the settings file and applies it at once.</summary>
    public class StationReceiverWindow : NinjaTrader.Gui.Tools.NTWindow
    {
        readonly ReceiverService service;
        readonly string settingsPath;
        ReceiverSettings settings;
        readonly TextBox portBox = Field(70);
        readonly TextBox accountBox = Field(120);
        readonly TextBox atmBox = Field(140);
        readonly TextBox instrumentsBox = Field(300);
        readonly TextBlock message = new TextBlock();
        readonly TextBlock accountsHint = new TextBlock();
        readonly ListBox portList = new ListBox();
        readonly ListBox lineList = new ListBox();
        readonly DispatcherTimer timer = new DispatcherTimer();
        List<int> shownPorts = new List<int>();
        readonly List<TextBlock> rows = new List<TextBlock>();
        List<string> shownLines = new List<string>();

        // NinjaTrader requires NTWindow classes to have a default constructor (help guide, NTWindow)
        public StationReceiverWindow()
        {
            service = NinjaTrader.NinjaScript.AddOns.StationReceiverAddOn.Running;
            settingsPath = NinjaTrader.NinjaScript.AddOns.StationReceiverAddOn.SettingsPath;
            Caption = "Station Receiver";
            Width = 1000;
            Height = 560;
            Content = Layout();
            try
            {
                settings = ReceiverSettings.Load(settingsPath);
            }
            catch (Exception e)
            {
                settings = new ReceiverSettings();
                message.Text = e.Message + " (saving replaces it)";
            }
            if (service == null)
                message.Text = "The receiver is not running: compile the NinjaScript add-ons (F5 in the NinjaScript Editor).";
            portList.SelectionChanged += OnPortSelected;
            timer.Interval = TimeSpan.FromSeconds(1);
            timer.Tick += delegate { Refresh(); };
            timer.Start();
            Closed += delegate { timer.Stop(); };
            Rebuild();
        }

        static TextBox Field(double width)
        {
            TextBox box = new TextBox();
            box.Width = width;
            box.Margin = new Thickness(4, 0, 12, 0);
            return box;
        }

        UIElement Layout()
        {
            StackPanel first = Row();
            first.Children.Add(Label("Port"));
            first.Children.Add(portBox);
            first.Children.Add(Label("Account"));
            first.Children.Add(accountBox);
            first.Children.Add(Label("ATM template (optional)"));
            first.Children.Add(atmBox);
            StackPanel second = Row();
            second.Children.Add(Label("Instruments (ES=ES 12-26; NQ=NQ 12-26)"));
            second.Children.Add(instrumentsBox);
            second.Children.Add(ButtonFor("Save port", OnSave));
            second.Children.Add(ButtonFor("Remove port", OnRemove));
            StackPanel editor = new StackPanel();
            editor.Orientation = Orientation.Vertical;
            editor.Margin = new Thickness(8);
            editor.Children.Add(first);
            editor.Children.Add(second);

            message.Margin = new Thickness(8, 0, 8, 4);
            message.TextWrapping = TextWrapping.Wrap;
            accountsHint.Margin = new Thickness(8, 0, 8, 8);

            portList.Width = 380;
            portList.Margin = new Thickness(8);
            lineList.Margin = new Thickness(0, 8, 8, 8);

            DockPanel root = new DockPanel();
            root.LastChildFill = true;
            foreach (UIElement top in new UIElement[] { editor, message, accountsHint })
            {
                DockPanel.SetDock(top, Dock.Top);
                root.Children.Add(top);
            }
            DockPanel.SetDock(portList, Dock.Left);
            root.Children.Add(portList);
            root.Children.Add(lineList);
            return root;
        }

        static StackPanel Row()
        {
            StackPanel row = new StackPanel();
            row.Orientation = Orientation.Horizontal;
            row.Margin = new Thickness(0, 0, 0, 6);
            return row;
        }

        static TextBlock Label(string text)
        {
            TextBlock label = new TextBlock();
            label.Text = text;
            label.VerticalAlignment = VerticalAlignment.Center;
            return label;
        }

        static Button ButtonFor(string text, RoutedEventHandler click)
        {
            Button button = new Button();
            button.Content = text;
            button.Margin = new Thickness(0, 0, 8, 0);
            button.Click += click;
            return button;
        }

        int SelectedPort()
        {
            int index = portList.SelectedIndex;
            return index >= 0 && index < shownPorts.Count ? shownPorts[index] : -1;
        }

        /// <summary>One row per port in the settings; rows are kept (and refreshed in place) until they change,
        /// so the selection survives the refresh timer.</summary>
        void Rebuild()
        {
            int selected = SelectedPort();
            shownPorts = settings.Ports.Select(p => p.Port).OrderBy(p => p).ToList();
            rows.Clear();
            portList.Items.Clear();
            foreach (int port in shownPorts)
            {
                TextBlock row = new TextBlock();
                rows.Add(row);
                portList.Items.Add(row);
            }
            portList.SelectedIndex = shownPorts.IndexOf(selected);
            Refresh();
        }

        /// <summary>Each port's state and connections, the selected port's last lines, the accounts.</summary>
        void Refresh()
        {
            Dictionary<int, PortStatus> live = new Dictionary<int, PortStatus>();
            if (service != null)
                foreach (PortStatus status in service.Status())
                    live[status.Settings.Port] = status;
            for (int i = 0; i < shownPorts.Count; i++)
            {
                PortSettings entry = settings.Ports.First(p => p.Port == shownPorts[i]);
                PortStatus status;
                string state = live.TryGetValue(entry.Port, out status)
                    ? status.State + ", " + status.Connections + " connection(s)"
                    : "not running";
                rows[i].Text = entry.Port + " → " + entry.Account
                    + (entry.AtmTemplate.Length > 0 ? " (ATM " + entry.AtmTemplate + ")" : "") + " · " + state;
            }

            PortStatus shown;
            List<string> lines = live.TryGetValue(SelectedPort(), out shown) ? shown.LastLines : new List<string>();
            if (!lines.SequenceEqual(shownLines))
            {
                lineList.Items.Clear();
                foreach (string line in lines)
                    lineList.Items.Add(line);
                shownLines = lines;
            }

            List<string> names = new List<string>();
            // qualified, as NinjaTrader's namespaces are not imported here: WPF's names stay unambiguous
            lock (NinjaTrader.Cbi.Account.All)
                foreach (NinjaTrader.Cbi.Account account in NinjaTrader.Cbi.Account.All)
                    names.Add(account.Name);
            accountsHint.Text = "Accounts in NinjaTrader: " + (names.Count == 0 ? "none connected" : string.Join(", ", names));
        }

        void OnPortSelected(object sender, SelectionChangedEventArgs e)
        {
            int port = SelectedPort();
            if (port < 0)
                return;
            PortSettings entry = settings.Ports.First(p => p.Port == port);
            portBox.Text = entry.Port.ToString();
            accountBox.Text = entry.Account;
            atmBox.Text = entry.AtmTemplate;
            instrumentsBox.Text = InstrumentMapText.Format(entry.Instruments);
            Refresh();
        }

        void OnSave(object sender, RoutedEventArgs e)
        {
            int port;
            if (!int.TryParse(portBox.Text.Trim(), out port) || port < 1 || port > 65535)
            {
                message.Text = "Port: a number from 1 to 65535 (the port Station's ticker lists).";
                return;
            }
            string error;
            Dictionary<string, string> map = InstrumentMapText.Parse(instrumentsBox.Text, out error);
            if (map == null)
            {
                message.Text = "Instruments: " + error;
                return;
            }
            PortSettings entry = new PortSettings();
            entry.Port = port;
            entry.Account = accountBox.Text.Trim();
            entry.AtmTemplate = atmBox.Text.Trim();
            entry.Instruments = map;
            ReceiverSettings next = new ReceiverSettings();
            next.Ports.AddRange(settings.Ports.Where(p => p.Port != port));
            next.Ports.Add(entry);
            Store(next, "Port " + port + " saved.");
        }

        void OnRemove(object sender, RoutedEventArgs e)
        {
            int port;
            if (!int.TryParse(portBox.Text.Trim(), out port))
                return;
            ReceiverSettings next = new ReceiverSettings();
            next.Ports.AddRange(settings.Ports.Where(p => p.Port != port));
            Store(next, "Port " + port + " removed.");
        }

        void Store(ReceiverSettings next, string done)
        {
            string problem = next.Problem();
            if (problem != null)
            {
                message.Text = problem;
                return;
            }
            try
            {
                next.Save(settingsPath);
                settings = next;
                if (service != null)
                    service.Apply(next);
                message.Text = done;
            }
            catch (Exception ex)
            {
                message.Text = "Not saved: " + ex.Message;
            }
            Rebuild();
        }
    }
}
