using System.Text;
using MiniVmm.Machine.Console;

namespace MiniVmm.Machine.Tests.Console;

public sealed class ConsoleWatcherTests
{
    private readonly ConsoleWatcher _watcher = new();

    private void Print(string text) => _watcher.Write(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void SplitsLinesAcrossChunksAndStripsCarriageReturns()
    {
        Print("Linux version 6.1\r");
        Print("\nsecond ");
        Print("line\r\nthi");
        Assert.Equal(["Linux version 6.1", "second line", "thi"], _watcher.RecentLines());
        Assert.Equal(2, _watcher.LineCount);
    }

    [Fact]
    public void ByteByByteWritesMakeTheSameLines()
    {
        foreach (byte b in "one\r\ntwo\r\n"u8.ToArray())
            _watcher.Write([b]);
        Assert.Equal(["one", "two"], _watcher.RecentLines());
    }

    [Fact]
    public void KeepsOnlyTheLastLines()
    {
        var watcher = new ConsoleWatcher(historyLines: 3);
        for (int i = 0; i < 10; i++)
            watcher.Write(Encoding.UTF8.GetBytes($"line {i}\n"));
        Assert.Equal(["line 7", "line 8", "line 9"], watcher.RecentLines());
    }

    [Fact]
    public void DefaultHistoryIsFiftyLines()
    {
        for (int i = 0; i < 80; i++)
            Print($"{i}\n");
        var lines = _watcher.RecentLines();
        Assert.Equal(50, lines.Count);
        Assert.Equal("30", lines[0]);
        Assert.Equal("79", lines[^1]);
    }

    [Fact]
    public void LineMarkerFiresWithTheWholeLineWhenItEnds()
    {
        var seen = new List<string>();
        _watcher.Watch("Kernel panic - not syncing", seen.Add);
        Print("[    1.0] Kernel panic - not ");
        Print("syncing: VFS: Unable to mount root fs");
        Assert.Empty(seen);
        Print("\r\n---[ end Kernel panic ]---\n");
        Assert.Equal(["[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs"], seen);
    }

    [Fact]
    public void LineMarkerFiresOncePerMatchingLine()
    {
        var seen = new List<string>();
        _watcher.Watch("OK", seen.Add);
        Print("OK OK\nnothing\nOK\n");
        Assert.Equal(["OK OK", "OK"], seen);
    }

    [Fact]
    public void ImmediateMarkerFiresWithoutANewline()
    {
        var seen = new List<string>();
        _watcher.Watch("login: ", seen.Add, immediate: true);
        Print("debian log");
        Print("in: ");
        Assert.Equal(["debian login: "], seen);
        Print("login: again on the same line\n");
        Assert.Single(seen);
        Print("login: ");
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void SeveralMarkersAllFire()
    {
        var seen = new List<string>();
        _watcher.Watch("alpha", line => seen.Add("a:" + line));
        _watcher.Watch("beta", line => seen.Add("b:" + line));
        Print("alpha beta\n");
        Assert.Equal(["a:alpha beta", "b:alpha beta"], seen);
    }

    [Fact]
    public void CallbackMayReadTheWatcher()
    {
        IReadOnlyList<string>? tail = null;
        _watcher.Watch("panic", _ => tail = _watcher.RecentLines());
        Print("before\npanic\n");
        Assert.Equal(["before", "panic"], tail);
    }

    [Fact]
    public void OverlongLinesAreCut()
    {
        Print(new string('a', ConsoleWatcher.MaxLineLength + 10));
        var lines = _watcher.RecentLines();
        Assert.Equal(2, lines.Count);
        Assert.Equal(ConsoleWatcher.MaxLineLength, lines[0].Length);
        Assert.Equal(10, lines[1].Length);
    }

    [Fact]
    public void InvalidUtf8BecomesReplacementCharacters()
    {
        _watcher.Write([(byte)'a', 0xFF, 0xC3, (byte)'\n', 0xC3, 0xA9, (byte)'\n']);
        Assert.Equal(["a\uFFFD\uFFFD", "é"], _watcher.RecentLines());
    }
}
