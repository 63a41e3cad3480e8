using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>The 2D, display and cursor commands.</summary>
internal sealed partial class GpuCommandGenerator
{
    private static FuzzCommand Command<T>(string text, in T command, byte[]? extra = null, int responseSize = 24) where T : unmanaged =>
        new(text, GpuHarness.Bytes(in command), extra, responseSize);

    private FuzzCommand Create2d()
    {
        var cmd = new VirtioGpuResourceCreate2d
        {
            Hdr = Hdr(CMD_RESOURCE_CREATE_2D), ResourceId = ResourceId(), Format = Format(), Width = Dimension(), Height = Dimension(),
        };
        // Checked in this order by the device: id 0, format, size, then "already exists".
        bool plainlyValid = cmd.ResourceId != 0 && Array.IndexOf(Formats, cmd.Format) >= 0 && cmd.Width is > 0 and <= 4096
            && cmd.Height is > 0 and <= 4096 && RingOk(cmd.Hdr);
        return Command($"CREATE_2D id={cmd.ResourceId} fmt={cmd.Format} {cmd.Width}x{cmd.Height}", cmd) with
        {
            Expected = plainlyValid && shadow.LiveResources.Contains(cmd.ResourceId) ? RESP_ERR_INVALID_RESOURCE_ID : null,
        };
    }

    private FuzzCommand Unref()
    {
        var cmd = new VirtioGpuResourceUnref { Hdr = Hdr(CMD_RESOURCE_UNREF), ResourceId = ResourceId() };
        bool freed = shadow.FreedResources.Contains(cmd.ResourceId) || cmd.ResourceId == 0;
        return Command($"UNREF id={cmd.ResourceId}", cmd) with { Expected = freed && RingOk(cmd.Hdr) ? RESP_ERR_INVALID_RESOURCE_ID : null };
    }

    private FuzzCommand AttachBacking()
    {
        var entries = Entries(EntryCount());
        uint claimed = random.Next(100) switch
        {
            < 85 => (uint)entries.Length,
            < 92 => (uint)entries.Length + (uint)random.Next(1, 4),
            _ => Pick(uint.MaxValue, 0x1000_0000u, 0x0fff_ffffu),
        };
        var cmd = new VirtioGpuResourceAttachBacking { Hdr = Hdr(CMD_RESOURCE_ATTACH_BACKING), ResourceId = ResourceId(), NrEntries = claimed };
        string list = string.Join(',', entries.Select(e => $"0x{e.Addr:x}+{e.Length}"));
        return Command($"ATTACH_BACKING id={cmd.ResourceId} nr={claimed} [{list}]", cmd, GpuHarness.MemEntries(entries));
    }

    private FuzzCommand DetachBacking()
    {
        var cmd = new VirtioGpuResourceDetachBacking { Hdr = Hdr(CMD_RESOURCE_DETACH_BACKING), ResourceId = ResourceId() };
        return Command($"DETACH_BACKING id={cmd.ResourceId}", cmd);
    }

    private FuzzCommand Transfer()
    {
        var cmd = new VirtioGpuTransferToHost2d
        {
            Hdr = Hdr(CMD_TRANSFER_TO_HOST_2D), ResourceId = ResourceId(),
            // Half the time a small rect at the origin, which fits any resource of 16x16 or more with a page of backing.
            R = Chance(50) ? new((uint)random.Next(0, 4), (uint)random.Next(0, 4), (uint)random.Next(1, 13), (uint)random.Next(1, 13)) : Rect(),
            Offset = Chance(50) ? (ulong)random.Next(0, 64) * 4 : Around((ulong)random.Next(1, 1 << 16)),
        };
        return Command($"TRANSFER id={cmd.ResourceId} rect={cmd.R} offset=0x{cmd.Offset:x}", cmd);
    }

    private uint ScanoutId() => Chance(85) ? 0 : Pick(1u, 15u, 16u, uint.MaxValue);

    private FuzzCommand SetScanout()
    {
        var cmd = new VirtioGpuSetScanout
        {
            Hdr = Hdr(CMD_SET_SCANOUT), R = Rect(), ScanoutId = ScanoutId(), ResourceId = Chance(15) ? 0 : ResourceId(),
        };
        return Command($"SET_SCANOUT scanout={cmd.ScanoutId} id={cmd.ResourceId} rect={cmd.R}", cmd);
    }

    private FuzzCommand Flush()
    {
        var cmd = new VirtioGpuResourceFlush { Hdr = Hdr(CMD_RESOURCE_FLUSH), R = Rect(), ResourceId = ResourceId() };
        return Command($"FLUSH id={cmd.ResourceId} rect={cmd.R}", cmd);
    }

    /// <summary>GET_DISPLAY_INFO, GET_EDID, GET_CAPSET_INFO and GET_CAPSET with their real response sizes.</summary>
    private FuzzCommand Simple() => random.Next(4) switch
    {
        0 => Command("GET_DISPLAY_INFO", Hdr(CMD_GET_DISPLAY_INFO), responseSize: 408),
        1 => Command("GET_EDID", new VirtioGpuCmdGetEdid { Hdr = Hdr(CMD_GET_EDID), Scanout = ScanoutId() }, responseSize: 1056),
        2 => Command("GET_CAPSET_INFO", new VirtioGpuGetCapsetInfo { Hdr = Hdr(CMD_GET_CAPSET_INFO), CapsetIndex = Pick(0u, 1u, uint.MaxValue) }, responseSize: 40),
        _ => Command("GET_CAPSET", new VirtioGpuGetCapset
        {
            Hdr = Hdr(CMD_GET_CAPSET), CapsetId = Pick(5u, 5u, 1u, uint.MaxValue), CapsetVersion = Pick(0u, 0u, 1u, uint.MaxValue),
        }, responseSize: 40),
    };

    /// <summary>UPDATE_CURSOR / MOVE_CURSOR (and now and then a control command) on the cursor queue.</summary>
    private FuzzCommand Cursor()
    {
        var type = random.Next(100) switch
        {
            < 50 => CMD_UPDATE_CURSOR,
            < 90 => CMD_MOVE_CURSOR,
            _ => Pick(CMD_GET_DISPLAY_INFO, CMD_RESOURCE_UNREF, (VirtioGpuCtrlType)random.Next()),
        };
        var cmd = new VirtioGpuUpdateCursor
        {
            Hdr = Hdr(type),
            Pos = new VirtioGpuCursorPos { ScanoutId = ScanoutId(), X = Coordinate(1024), Y = Coordinate(768) },
            ResourceId = Chance(20) ? 0 : ResourceId(),
            HotX = Coordinate(64),
            HotY = Coordinate(64),
        };
        var bytes = GpuHarness.Bytes(in cmd);
        if (Chance(5))
            bytes = bytes[..random.Next(bytes.Length)];
        int response = Chance(60) ? 0 : Pick(24, 24, 8);
        return new FuzzCommand($"cursor {type} scanout={cmd.Pos.ScanoutId} id={cmd.ResourceId} pos={cmd.Pos.X},{cmd.Pos.Y} hot={cmd.HotX},{cmd.HotY} len={bytes.Length}",
            bytes, null, response) { OnCursorQueue = true, ResponseFits = response == 24 };
    }

    /// <summary>Random bytes, or a header with a type the device does not know.</summary>
    private FuzzCommand Garbage()
    {
        var bytes = new byte[random.Next(0, 120)];
        random.NextBytes(bytes);
        if (bytes.Length >= 4 && Chance(50))
            BitConverter.TryWriteBytes(bytes, Pick(0u, 0x1100u, 0x0300u, 0x01ffu, 0x0400u, 0x0402u, uint.MaxValue));
        return new FuzzCommand($"garbage len={bytes.Length} type=0x{(bytes.Length >= 4 ? BitConverter.ToUInt32(bytes) : 0):x}", bytes, null, 64);
    }
}
