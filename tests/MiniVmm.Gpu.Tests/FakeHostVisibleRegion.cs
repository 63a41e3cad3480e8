using System.Runtime.InteropServices;

namespace MiniVmm.Gpu.Tests;

/// <summary>Records what the device maps into the host-visible region; can be told to fail the next map.</summary>
internal sealed class FakeHostVisibleRegion(ulong size) : IHostVisibleRegion
{
    public ulong Size { get; } = size;

    /// <summary>offset → (size, fd) of each live mapping.</summary>
    public Dictionary<ulong, (ulong Size, SafeHandle Fd)> Mappings { get; } = [];

    public string? FailNext { get; set; }

    public bool TryMap(ulong offset, ulong size, SafeHandle memfd, out string? error)
    {
        error = FailNext;
        FailNext = null;
        if (error is not null)
            return false;
        Assert.False(memfd.IsInvalid);
        Assert.True(Mappings.TryAdd(offset, (size, memfd)), $"0x{offset:x} mapped twice");
        return true;
    }

    public void Unmap(ulong offset) => Assert.True(Mappings.Remove(offset), $"0x{offset:x} was not mapped");
}
