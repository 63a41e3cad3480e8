using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>Where the fuzzed guest keeps its pages, and how big the things it aims at are.</summary>
internal sealed record FuzzSpace(ulong PoolStart, ulong PoolSize, ulong RamSize, ulong HostVisibleSize);

/// <summary>
/// Emits control- and cursor-queue commands of every type the device knows: mostly values a driver would send
/// (ids it holds, sizes near real ones, entries inside its pages) mixed with hostile ones (huge values, sums that
/// wrap 2^64, ids never created or already freed, truncated bodies, short response buffers). Seeded, so a seed
/// replays the same commands.
/// </summary>
internal sealed partial class GpuCommandGenerator(Random random, FuzzShadow shadow, FuzzSpace space)
{
    private static readonly uint[] Formats = [.. Enum.GetValues<VirtioGpuFormat>().Select(f => (uint)f)];

    private readonly Queue<FuzzCommand> _pending = new();

    public FuzzCommand Next()
    {
        if (_pending.Count == 0 && Chance(2))
            QueueSession();
        if (_pending.Count > 0)
            return _pending.Dequeue();
        var command = random.Next(100) switch
        {
            < 10 => Create2d(),
            < 16 => Unref(),
            < 24 => AttachBacking(),
            < 27 => DetachBacking(),
            < 34 => Transfer(),
            < 39 => SetScanout(),
            < 44 => Flush(),
            < 46 => Simple(),
            < 54 => CreateBlob(),
            < 58 => MapOrUnmapBlob(),
            < 61 => SetScanoutBlob(),
            < 67 => Context(),
            < 71 => CtxResource(),
            < 84 => Submit3d(),
            < 92 => Cursor(),
            < 95 => Unsupported3d(),
            _ => Garbage(),
        };
        return command.OnCursorQueue ? command : Mangle(command);
    }

    /// <summary>Sometimes cuts the request short, splits it differently, or gives a response buffer that is too small.</summary>
    private FuzzCommand Mangle(FuzzCommand command)
    {
        var layout = (Layout)random.Next(4);
        command = command with { Layout = layout };
        if (random.Next(100) < 5)
            command = command with { Text = "truncated " + command.Text, Request = command.Request[..random.Next(command.Request.Length)], Expected = null };
        // Only where the guest need not learn the outcome: the shadow model follows creates and frees from their answers.
        if (random.Next(100) < 5 && !FuzzShadow.Follows(command))
            command = command with { Text = command.Text + " short-response", ResponseSize = Pick(command.Request.Length == 0 ? 8 : 0, 8, 23, random.Next(1, 64)), ResponseFits = false, Expected = null };
        return command;
    }

    private T Pick<T>(params T[] values) => values[random.Next(values.Length)];

    private bool Chance(int percent) => random.Next(100) < percent;

    private uint PickFrom(List<uint> ids) => ids[random.Next(ids.Count)];

    /// <summary>A resource id: mostly one the guest holds, else freed, small, 0 or huge.</summary>
    private uint ResourceId() => random.Next(100) switch
    {
        < 50 when shadow.LiveResources.Count > 0 => PickFrom(shadow.LiveResources),
        < 62 when shadow.FreedResources.Count > 0 => shadow.FreedResources.ElementAt(random.Next(shadow.FreedResources.Count)),
        < 94 => (uint)random.Next(1, 40),
        < 97 => 0,
        _ => Pick(uint.MaxValue, 0x8000_0000u, (uint)random.Next()),
    };

    private uint ContextId() => random.Next(100) switch
    {
        < 55 when shadow.LiveContexts.Count > 0 => PickFrom(shadow.LiveContexts),
        < 65 when shadow.FreedContexts.Count > 0 => shadow.FreedContexts.ElementAt(random.Next(shadow.FreedContexts.Count)),
        < 94 => (uint)random.Next(1, 12),
        < 97 => 0,
        _ => Pick(uint.MaxValue, (uint)random.Next()),
    };

    /// <summary>A width or height: small ones mostly (fast), real screen sizes, the limits, and nonsense.</summary>
    private uint Dimension() => random.Next(100) switch
    {
        < 60 => (uint)random.Next(1, 129),
        < 72 => Pick(64u, 256u, 640u),
        < 76 => Pick(1024u, 768u, 1280u),
        < 80 => Pick(4095u, 4096u, 16384u, 16385u),
        < 85 => 0,
        < 92 => Pick(uint.MaxValue, 0x1_0000u, 0x8000_0000u, 0x4000_0001u),
        _ => (uint)random.Next(1, 2000),
    };

    /// <summary>A coordinate or extent inside <paramref name="limit"/>, at its edge, or far past it (x + w wrapping u32).</summary>
    private uint Coordinate(uint limit) => random.Next(100) switch
    {
        < 70 => (uint)random.NextInt64(0, (long)limit + 1),
        < 80 => limit,
        < 85 => limit + 1,
        _ => Pick(uint.MaxValue, uint.MaxValue - 1, 0x8000_0000u, (uint)random.Next()),
    };

    private VirtioGpuRect Rect(uint width = 128, uint height = 128) =>
        Chance(20) ? new(0, 0, width, height) : new(Coordinate(width), Coordinate(height), Coordinate(width), Coordinate(height));

    private uint Format() => Chance(90) ? Pick(Formats) : Pick(0u, 5u, 999u, uint.MaxValue);

    /// <summary>A 64-bit value around <paramref name="edge"/>: inside, at, just past, and values whose sums wrap 2^64.</summary>
    private ulong Around(ulong edge) => random.Next(100) switch
    {
        < 35 => edge == 0 ? 0 : (ulong)random.NextInt64(0, (long)Math.Min(edge, long.MaxValue)),
        < 45 => 0,
        < 55 => edge,
        < 62 => edge - 1,
        < 70 => edge + 1,
        < 76 => edge + 4096,
        < 82 => edge > 4096 ? edge - 4096 : 4096,
        < 90 => Pick(ulong.MaxValue, ulong.MaxValue - 4095, 1UL << 63, (ulong)uint.MaxValue + 1),
        _ => (ulong)random.NextInt64(),
    };

    /// <summary>A header: fences with and without INFO_RING_IDX (ring ids past 63 now and then).</summary>
    private VirtioGpuCtrlHdr Hdr(VirtioGpuCtrlType type, uint ctxId = 0)
    {
        ulong? fence = Chance(35) ? (ulong)random.NextInt64() : null;
        byte? ring = fence is not null && Chance(50) ? (byte)(Chance(90) ? random.Next(64) : random.Next(64, 256)) : null;
        return GpuHarness.Hdr(type, fence, ctxId, ring);
    }

    /// <summary>Whether the header passes the ring check, so a certain expectation is not pre-empted by it.</summary>
    private static bool RingOk(in VirtioGpuCtrlHdr hdr) =>
        (hdr.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX) == 0 || hdr.RingIdx < VirtioGpuConstants.MaxRings;

    /// <summary>Mem entries inside the guest's pages, straddling the end of RAM, past it, and wrapping 2^64.</summary>
    private (ulong Addr, uint Length)[] Entries(int count)
    {
        var entries = new (ulong, uint)[count];
        for (int i = 0; i < count; i++)
        {
            ulong addr = random.Next(100) switch
            {
                < 75 => space.PoolStart + (ulong)random.NextInt64(0, (long)space.PoolSize / 4096) * 4096,
                < 82 => space.PoolStart + (ulong)random.NextInt64(0, (long)space.PoolSize),
                < 88 => space.RamSize - Pick(0UL, 100UL, 4096UL),
                < 94 => Pick(ulong.MaxValue - 4095, ulong.MaxValue, 1UL << 48),
                _ => space.RamSize + (ulong)random.Next(0, 1 << 20),
            };
            uint length = random.Next(100) switch
            {
                < 70 => 4096,
                < 80 => (uint)random.Next(1, 65536),
                < 88 => 0,
                _ => Pick(uint.MaxValue, 0x8000_0000u, (uint)(space.PoolSize * 2)),
            };
            entries[i] = (addr, length);
        }
        return entries;
    }

    private int EntryCount() => random.Next(100) switch
    {
        < 85 => random.Next(1, 9),
        < 92 => 0,
        _ => random.Next(9, 40),
    };
}
