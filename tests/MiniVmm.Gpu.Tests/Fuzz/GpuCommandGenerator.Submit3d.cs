using MiniVmm.Gpu.Protocol;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>SUBMIT_3D with cross-domain command streams: valid headers with random fields, and random bytes.</summary>
internal sealed partial class GpuCommandGenerator
{
    /// <summary>The frontend's cap on a SUBMIT_3D stream (GpuFrontend.MaxSubmitBytes, 1 MiB).</summary>
    private const uint SubmitLimit = 1 << 20;

    private FuzzCommand Submit3d()
    {
        uint ctx = Chance(75) && shadow.CrossDomainContexts.Count > 0 ? PickFrom(shadow.CrossDomainContexts) : ContextId();
        var stream = new List<byte>();
        var parts = new List<string>();
        for (int i = random.Next(1, 4); i > 0; i--)
        {
            var (name, bytes) = CrossDomainCommand();
            if (Chance(12) && bytes.Length >= 4)
                BitConverter.TryWriteBytes(bytes.AsSpan(2), (ushort)Pick(0, 4, 7, bytes.Length + 8, random.Next(0, 65536))); // cmd_size
            if (Chance(5))
                bytes = bytes[..random.Next(bytes.Length)];
            parts.Add($"{name}/{bytes.Length}");
            stream.AddRange(bytes);
        }
        uint size = Chance(90) ? (uint)stream.Count : Pick((uint)stream.Count + 1, uint.MaxValue, 0u, SubmitLimit + 1);
        var cmd = new VirtioGpuCmdSubmit { Hdr = Hdr(CMD_SUBMIT_3D, ctx), Size = size };
        return Command($"SUBMIT_3D ctx={ctx} size={size} [{string.Join(' ', parts)}]", cmd, [.. stream]);
    }

    private uint RingId() => Chance(70) && shadow.GuestBlobs.Count > 0 ? PickFrom(shadow.GuestBlobs) : ResourceId();

    private (string Name, byte[] Bytes) CrossDomainCommand()
    {
        switch (random.Next(100))
        {
            case < 20:
                return ("INIT", GpuHarness.XdInit(RingId(), RingId(), Chance(85) ? CrossDomainConstants.ChannelTypeWayland : Pick(0u, 2u, 0x10u, uint.MaxValue)));
            case < 35:
                return ("IMAGE_REQ", GpuHarness.XdImageRequirements(Dimension(), Dimension(), Chance(80) ? Pick(0x34325241u, 0x34325258u, 0x3231564eu, 0x32315659u, 0x36314752u) : (uint)random.Next()));
            case < 50:
                return ("POLL", GpuHarness.XdPoll());
            case < 75:
            {
                var data = new byte[Chance(90) ? random.Next(0, 200) : random.Next(200, 3800)];
                random.NextBytes(data);
                var ids = new (uint, uint)[random.Next(0, 4)];
                for (int i = 0; i < ids.Length; i++)
                    ids[i] = (Chance(70) ? (uint)random.Next(0, 8) : ResourceId(), Chance(80) ? (uint)random.Next(1, 4) : (uint)random.Next());
                var bytes = GpuHarness.XdSend(data, ids);
                if (Chance(10))
                    BitConverter.TryWriteBytes(bytes.AsSpan(8), Pick(29u, uint.MaxValue, (uint)random.Next())); // num_identifiers
                if (Chance(10))
                    BitConverter.TryWriteBytes(bytes.AsSpan(12), Pick((uint)data.Length + 1, uint.MaxValue, 5000u)); // opaque_data_size
                return ("SEND", bytes);
            }
            case < 88:
            {
                var data = new byte[random.Next(0, 100)];
                random.NextBytes(data);
                var bytes = GpuHarness.XdWrite((uint)random.Next(0, 8), data, hangUp: Chance(50));
                if (Chance(10))
                    BitConverter.TryWriteBytes(bytes.AsSpan(16), (uint)random.Next()); // opaque_data_size
                return ("WRITE", bytes);
            }
            default:
            {
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                if (bytes.Length >= 4 && Chance(60))
                {
                    bytes[0] = (byte)random.Next(0, 9);
                    BitConverter.TryWriteBytes(bytes.AsSpan(2), (ushort)bytes.Length);
                }
                return ("random", bytes);
            }
        }
    }
}
