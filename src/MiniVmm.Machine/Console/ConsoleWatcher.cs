using System.Text;
using MiniVmm.Machine.Devices;

namespace MiniVmm.Machine.Console;

/// <summary>
/// Watches the guest's console output: splits it into lines, keeps the last few for a diagnosis, and
/// calls back when a line contains a registered marker (a kernel panic, a user's
/// <c>--exit-on-output</c> string). Lines are split at '\n' with a trailing '\r' removed and decoded
/// as UTF-8 (bad bytes become U+FFFD, never an exception). A line longer than
/// <see cref="MaxLineLength"/> bytes is cut there, so a guest that never prints a newline cannot make
/// the watcher grow. Pure (no I/O) and thread-safe.
/// </summary>
public sealed class ConsoleWatcher : ISerialOutput
{
    public const int DefaultHistoryLines = 50;
    public const int MaxLineLength = 4096;

    private sealed class Pattern(string marker, Action<string> onMatch, bool immediate)
    {
        public string Marker { get; } = marker;
        public byte[] MarkerBytes { get; } = Encoding.UTF8.GetBytes(marker);
        public Action<string> OnMatch { get; } = onMatch;
        public bool Immediate { get; } = immediate;
        public bool FiredOnThisLine { get; set; } // guarded by the watcher's _lock
    }

    // _lock guards every field below. Callbacks run after it is released, on the writing thread.
    private readonly Lock _lock = new();
    private readonly List<Pattern> _patterns = [];
    private readonly string[] _history;
    private int _historyStart;
    private int _historyCount;
    private readonly byte[] _line = new byte[MaxLineLength];
    private int _lineLength;
    private long _lineCount;

    public ConsoleWatcher(int historyLines = DefaultHistoryLines)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(historyLines);
        _history = new string[historyLines];
    }

    /// <summary>How many complete lines the guest has printed.</summary>
    public long LineCount
    {
        get
        {
            lock (_lock)
                return _lineCount;
        }
    }

    /// <summary>
    /// Calls <paramref name="onMatch"/> with the line each time a line contains <paramref name="marker"/>
    /// (at most once per line). By default the line is reported when it ends, so the callback sees all
    /// of it (the reason after "Kernel panic - not syncing:"); with <paramref name="immediate"/> it fires
    /// as soon as the marker's last byte arrives, with the line so far, for prompts that never end with
    /// a newline ("login: "). Callbacks run on the vCPU thread that wrote the byte and must not throw.
    /// </summary>
    public void Watch(string marker, Action<string> onMatch, bool immediate = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(marker);
        ArgumentNullException.ThrowIfNull(onMatch);
        lock (_lock)
            _patterns.Add(new Pattern(marker, onMatch, immediate));
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        List<(Action<string> Callback, string Line)>? matches = null;
        lock (_lock)
        {
            foreach (byte value in data)
            {
                if (value == (byte)'\n')
                {
                    EndLineLocked(ref matches);
                    continue;
                }
                if (_lineLength == MaxLineLength)
                    EndLineLocked(ref matches);
                _line[_lineLength++] = value;
                CheckImmediateLocked(ref matches);
            }
        }
        if (matches is null)
            return;
        foreach (var (callback, line) in matches)
            callback(line);
    }

    /// <summary>The last lines, oldest first, followed by the unfinished line if there is one.</summary>
    public IReadOnlyList<string> RecentLines()
    {
        lock (_lock)
        {
            var lines = new List<string>(_historyCount + 1);
            for (int i = 0; i < _historyCount; i++)
                lines.Add(_history[(_historyStart + i) % _history.Length]);
            if (_lineLength > 0)
                lines.Add(DecodeLineLocked());
            return lines;
        }
    }

    private void CheckImmediateLocked(ref List<(Action<string>, string)>? matches)
    {
        var line = _line.AsSpan(0, _lineLength);
        foreach (var pattern in _patterns)
        {
            if (pattern.Immediate && !pattern.FiredOnThisLine && line.EndsWith(pattern.MarkerBytes))
            {
                pattern.FiredOnThisLine = true;
                (matches ??= []).Add((pattern.OnMatch, DecodeLineLocked()));
            }
        }
    }

    private void EndLineLocked(ref List<(Action<string>, string)>? matches)
    {
        string line = DecodeLineLocked();
        _lineLength = 0;
        _lineCount++;
        if (_historyCount < _history.Length)
            _history[(_historyStart + _historyCount++) % _history.Length] = line;
        else
        {
            _history[_historyStart] = line;
            _historyStart = (_historyStart + 1) % _history.Length;
        }
        foreach (var pattern in _patterns)
        {
            if (!pattern.Immediate && line.Contains(pattern.Marker, StringComparison.Ordinal))
                (matches ??= []).Add((pattern.OnMatch, line));
            pattern.FiredOnThisLine = false;
        }
    }

    private string DecodeLineLocked()
    {
        var bytes = _line.AsSpan(0, _lineLength);
        if (bytes.EndsWith((byte)'\r'))
            bytes = bytes[..^1];
        return Encoding.UTF8.GetString(bytes);
    }
}
