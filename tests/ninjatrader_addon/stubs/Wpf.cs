// Compile-only stand-ins for the WPF members the Station Receiver add-on uses (Mono has no WPF), with
// WPF's own names, namespaces and signatures, so a misspelt member fails CI. Never run.
using System;

namespace System.Windows
{
    public class DependencyObject { }

    public class UIElement : DependencyObject { }

    public class FrameworkElement : UIElement
    {
        public double Width { get; set; }
        public double Height { get; set; }
        public Thickness Margin { get; set; }
        public Style Style { get; set; }
        public VerticalAlignment VerticalAlignment { get; set; }
    }

    public struct Thickness
    {
        public Thickness(double uniformLength) { }
        public Thickness(double left, double top, double right, double bottom) { }
    }

    public enum VerticalAlignment { Top, Center, Bottom, Stretch }

    public enum TextWrapping { WrapWithOverflow, NoWrap, Wrap }

    public class Style { }

    public class RoutedEventArgs : EventArgs { }

    public delegate void RoutedEventHandler(object sender, RoutedEventArgs e);

    public class Application
    {
        public static Application Current { get { return null; } }
        public object TryFindResource(object resourceKey) { return null; }
    }

    public class Window : System.Windows.Controls.ContentControl
    {
        public event EventHandler Closed;
        public void Show() { }
        void Unused() { Closed(null, null); }
    }
}

namespace System.Windows.Controls
{
    using System.Windows;

    public enum Orientation { Horizontal, Vertical }

    public enum Dock { Left, Top, Right, Bottom }

    public class Control : FrameworkElement { }

    public class ContentControl : Control
    {
        public object Content { get; set; }
    }

    public class Button : ContentControl
    {
        public event RoutedEventHandler Click;
        void Unused() { Click(null, null); }
    }

    public class TextBox : Control
    {
        public string Text { get; set; }
    }

    public class TextBlock : FrameworkElement
    {
        public string Text { get; set; }
        public TextWrapping TextWrapping { get; set; }
    }

    public class UIElementCollection
    {
        public int Add(UIElement element) { return 0; }
    }

    public class Panel : FrameworkElement
    {
        public UIElementCollection Children { get { return null; } }
    }

    public class StackPanel : Panel
    {
        public Orientation Orientation { get; set; }
    }

    public class DockPanel : Panel
    {
        public bool LastChildFill { get; set; }
        public static void SetDock(UIElement element, Dock dock) { }
    }

    public class ItemCollection
    {
        public int Add(object newItem) { return 0; }
        public void Clear() { }
        public bool Contains(object containItem) { return false; }
        public void Remove(object removeItem) { }
    }

    public class ItemsControl : Control
    {
        public ItemCollection Items { get { return null; } }
    }

    public class SelectionChangedEventArgs : RoutedEventArgs { }

    public delegate void SelectionChangedEventHandler(object sender, SelectionChangedEventArgs e);

    public class ListBox : ItemsControl
    {
        public int SelectedIndex { get; set; }
        public event SelectionChangedEventHandler SelectionChanged;
        void Unused() { SelectionChanged(null, null); }
    }

    public class MenuItem : ItemsControl
    {
        public object Header { get; set; }
        public event RoutedEventHandler Click;
        void Unused() { Click(null, null); }
    }
}

namespace System.Windows.Threading
{
    public class DispatcherOperation { }

    public class Dispatcher
    {
        public bool HasShutdownStarted { get { return false; } }
        public DispatcherOperation InvokeAsync(Action callback) { return null; }
    }

    public class DispatcherTimer
    {
        public TimeSpan Interval { get; set; }
        public event EventHandler Tick;
        public void Start() { }
        public void Stop() { }
        void Unused() { Tick(null, null); }
    }
}
