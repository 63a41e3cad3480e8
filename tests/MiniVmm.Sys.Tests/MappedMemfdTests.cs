using Microsoft.Win32.SafeHandles;

namespace MiniVmm.Sys.Tests;

public sealed class MappedMemfdTests
{
    [Fact]
    public void TheMappingAndTheFdAreTheSamePages()
    {
        using var mapped = MappedMemfd.TryCreate("test", 8192, out string? error) ?? throw new InvalidOperationException(error);
        mapped.GetSpan(4096, 4).Fill(0xAB);

        using var copy = mapped.Duplicate()!;
        var bytes = new byte[4];
        Assert.Equal(4, RandomAccess.Read(copy, bytes, 4096));
        Assert.Equal([0xAB, 0xAB, 0xAB, 0xAB], bytes);
        Assert.Equal(8192UL, mapped.Size);
    }

    [Theory]
    [InlineData(8192UL, 1)]
    [InlineData(8191UL, 2)]
    [InlineData(0UL, -1)]
    [InlineData(ulong.MaxValue, 1)]
    public void RangesOutsideTheMappingThrow(ulong offset, int length)
    {
        using var mapped = MappedMemfd.TryCreate("test", 8192, out string? error) ?? throw new InvalidOperationException(error);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.GetSpan(offset, length).Length);
    }

    [Fact]
    public void ADisposedMappingCannotBeRead()
    {
        var mapped = MappedMemfd.TryCreate("test", 4096, out string? error) ?? throw new InvalidOperationException(error);
        mapped.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mapped.GetSpan(0, 1).Length);
        Assert.True(mapped.Fd.IsClosed);
    }

    /// <summary>A descriptor that refuses writes (here O_RDONLY, like a sealed keymap) is wrapped read-only.</summary>
    [Fact]
    public void WrapFallsBackToReadOnlyAndMapRefuses()
    {
        using var source = MappedMemfd.TryCreate("test", 4096, out string? error) ?? throw new InvalidOperationException(error);
        source.GetSpan(0, 1)[0] = 7;
        var path = $"/proc/self/fd/{source.Fd.DangerousGetHandle()}";

        using var wrapped = MappedMemfd.TryWrap(File.OpenHandle(path, FileMode.Open, FileAccess.Read), 4096, out error);
        Assert.True(wrapped is not null, error);
        Assert.Equal(7, wrapped.GetSpan(0, 1)[0]);

        SafeFileHandle readOnly = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        Assert.Null(MappedMemfd.TryMap(readOnly, 4096, allowReadOnly: false, out var failure));
        Assert.Contains("mmap", failure.Call, StringComparison.Ordinal);
        Assert.True(readOnly.IsClosed); // taken over even on failure
    }
}
