using System.Buffers.Binary;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>
/// The cross-domain wire as upstream lays it out, written here by byte offset and independent of the product's
/// structs and encoder (CrossDomainCommands, CrossDomainRingWriter): every test builds guest commands and reads host
/// messages through this, so a layout mistake in the product fails a test instead of agreeing with itself.
/// Source: google/crosvm d559e5ca rutabaga_gfx/src/cross_domain/cross_domain_protocol.rs (the #[repr(C)] structs),
/// the same layouts as sommelier's virtualization/virtgpu_cross_domain_protocol.h. All fields little-endian.
/// </summary>
internal static class UpstreamCrossDomainWire
{
    // struct CrossDomainHeader: u8 cmd @0, u8 ring_idx (fence_ctx_idx) @1, u16 cmd_size @2, u32 pad @4.
    public const int HeaderSize = 8;

    public const byte CmdInit = 1, CmdGetImageRequirements = 2, CmdPoll = 3, CmdSend = 4, CmdReceive = 5, CmdRead = 6, CmdWrite = 7;

    // struct CrossDomainSendReceive: hdr; u32 num_identifiers @8; u32 opaque_data_size @12; u32 identifiers[28] @16;
    // u32 identifier_types[28] @128; u32 identifier_sizes[28] @240; data @352.
    public const int SendReceiveSize = 352;
    public const int MaxIdentifiers = 28;
    private const int IdentifiersAt = 16, TypesAt = 128, SizesAt = 240;

    // struct CrossDomainReadWrite: hdr; u32 identifier @8; u32 hang_up @12; u32 opaque_data_size @16; u32 pad @20; data @24.
    public const int ReadWriteSize = 24;

    /// <summary>struct CrossDomainInit (20 bytes): hdr; u32 query_ring_id @8; u32 channel_ring_id @12; u32 channel_type @16.</summary>
    public static byte[] Init(uint queryRing, uint channelRing, uint channelType)
    {
        var bytes = Command(CmdInit, 20);
        Put(bytes, 8, queryRing);
        Put(bytes, 12, channelRing);
        Put(bytes, 16, channelType);
        return bytes;
    }

    /// <summary>
    /// The legacy 16-byte INIT that minigbm's virtgpu_cross_domain.c still sends (crosvm CrossDomainInitLegacy):
    /// hdr; u32 query_ring_id @8; u32 channel_type @12. The host uses the query ring for both.
    /// </summary>
    public static byte[] InitLegacy(uint queryRing, uint channelType)
    {
        var bytes = Command(CmdInit, 16);
        Put(bytes, 8, queryRing);
        Put(bytes, 12, channelType);
        return bytes;
    }

    /// <summary>struct CrossDomainGetImageRequirements (24 bytes): hdr; u32 width @8; height @12; drm_format @16; flags @20.</summary>
    public static byte[] GetImageRequirements(uint width, uint height, uint drmFormat, uint flags = 0)
    {
        var bytes = Command(CmdGetImageRequirements, 24);
        Put(bytes, 8, width);
        Put(bytes, 12, height);
        Put(bytes, 16, drmFormat);
        Put(bytes, 20, flags);
        return bytes;
    }

    /// <summary>struct CrossDomainPoll (16 bytes): hdr; u64 pad @8.</summary>
    public static byte[] Poll() => Command(CmdPoll, 16);

    /// <summary>
    /// A SEND: num_identifiers is the count given (even past 28, for hostile tests), only 28 slots are filled; the
    /// data is padded to a multiple of 4 inside cmd_size, as sommelier pads it.
    /// </summary>
    public static byte[] Send(ReadOnlySpan<byte> data, params (uint Id, uint Type, uint Size)[] identifiers)
    {
        var bytes = Command(CmdSend, SendReceiveSize + ((data.Length + 3) & ~3));
        Put(bytes, 8, (uint)identifiers.Length);
        Put(bytes, 12, (uint)data.Length);
        for (int i = 0; i < Math.Min(identifiers.Length, MaxIdentifiers); i++)
        {
            Put(bytes, IdentifiersAt + 4 * i, identifiers[i].Id);
            Put(bytes, TypesAt + 4 * i, identifiers[i].Type);
            Put(bytes, SizesAt + 4 * i, identifiers[i].Size);
        }
        data.CopyTo(bytes.AsSpan(SendReceiveSize));
        return bytes;
    }

    /// <summary>A WRITE (struct CrossDomainReadWrite, data padded to 4 bytes).</summary>
    public static byte[] Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        var bytes = Command(CmdWrite, ReadWriteSize + ((data.Length + 3) & ~3));
        Put(bytes, 8, pipeId);
        Put(bytes, 12, hangUp ? 1u : 0u);
        Put(bytes, 16, (uint)data.Length);
        data.CopyTo(bytes.AsSpan(ReadWriteSize));
        return bytes;
    }

    /// <summary>A RECEIVE at the start of a channel ring: the identifiers (id, type, size) and the Wayland bytes.</summary>
    public static (List<(uint Id, uint Type, uint Size)> Ids, byte[] Data) ParseReceive(ReadOnlySpan<byte> ring)
    {
        Assert.Equal(CmdReceive, ring[0]);
        uint count = Get(ring, 8), length = Get(ring, 12);
        Assert.InRange(count, 0u, (uint)MaxIdentifiers);
        var ids = new List<(uint, uint, uint)>();
        for (int i = 0; i < count; i++)
            ids.Add((Get(ring, IdentifiersAt + 4 * i), Get(ring, TypesAt + 4 * i), Get(ring, SizesAt + 4 * i)));
        return (ids, ring.Slice(SendReceiveSize, (int)length).ToArray());
    }

    /// <summary>A READ at the start of a channel ring: pipe id, hang-up, data.</summary>
    public static (uint PipeId, bool HangUp, byte[] Data) ParseRead(ReadOnlySpan<byte> ring)
    {
        Assert.Equal(CmdRead, ring[0]);
        return (Get(ring, 8), Get(ring, 12) != 0, ring.Slice(ReadWriteSize, (int)Get(ring, 16)).ToArray());
    }

    /// <summary>
    /// struct CrossDomainImageRequirements (64 bytes, no header, at offset 0 of the query ring): u32 strides[4] @0;
    /// u32 offsets[4] @16; u64 modifier @32; u64 size @40; u32 blob_id @48; u32 map_info @52; i32 memory_idx @56;
    /// i32 physical_device_idx @60.
    /// </summary>
    public static ImageRequirements ParseImageRequirements(ReadOnlySpan<byte> ring) => new(
        [Get(ring, 0), Get(ring, 4), Get(ring, 8), Get(ring, 12)],
        [Get(ring, 16), Get(ring, 20), Get(ring, 24), Get(ring, 28)],
        BinaryPrimitives.ReadUInt64LittleEndian(ring[32..]),
        BinaryPrimitives.ReadUInt64LittleEndian(ring[40..]),
        Get(ring, 48), Get(ring, 52), (int)Get(ring, 56), (int)Get(ring, 60));

    public sealed record ImageRequirements(uint[] Strides, uint[] Offsets, ulong Modifier, ulong Size, uint BlobId, uint MapInfo,
        int MemoryIdx, int PhysicalDeviceIdx);

    /// <summary>struct CrossDomainCapabilities (16 bytes): version @0; supported_channels @4; dmabuf @8; external memory @12.</summary>
    public static (uint Version, uint SupportedChannels, uint Dmabuf, uint ExternalMemory) ParseCapabilities(ReadOnlySpan<byte> caps) =>
        (Get(caps, 0), Get(caps, 4), Get(caps, 8), Get(caps, 12));

    /// <summary>Packs a fourcc as drm_fourcc.h's fourcc_code() does.</summary>
    public static uint Fourcc(string code) => code[0] | (uint)code[1] << 8 | (uint)code[2] << 16 | (uint)code[3] << 24;

    private static byte[] Command(byte cmd, int size)
    {
        var bytes = new byte[size];
        bytes[0] = cmd;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)size);
        return bytes;
    }

    private static void Put(byte[] bytes, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);

    private static uint Get(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
}
