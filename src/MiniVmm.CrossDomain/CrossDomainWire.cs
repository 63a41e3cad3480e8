using System.Runtime.InteropServices;

namespace MiniVmm.CrossDomain;

/// <summary>
/// The guest side: encodes its cross-domain commands within the limits a guest keeps, and decodes the host's ring
/// messages. Every guest transport shares it (the DRM one in the guest, the in-process one on the host): only the way
/// the bytes reach the device differs. The structs are the ones the device parses, so host and guest cannot drift.
/// </summary>
public static class CrossDomainWire
{
    /// <summary>Wayland bytes per SEND. cmd_size is a u16; a page keeps each submission small, like sommelier.</summary>
    public const int MaxSendData = 4096;

    /// <summary>Pipe bytes per WRITE: what a READ carries the other way (a page less the struct), so any host takes it.</summary>
    public const int MaxWriteData = CrossDomainConstants.MaxReadWriteData;

    /// <summary>INIT; <paramref name="channelType"/> picks the host's compositor socket (1 unnamed, 20..31 named by minivmm.wayland_channels).</summary>
    public static byte[] Init(uint queryRing, uint channelRing, uint channelType) => CrossDomainCommands.Init(queryRing, channelRing, channelType);

    public static byte[] Poll() => CrossDomainCommands.Poll();

    /// <summary>GET_IMAGE_REQUIREMENTS for a linear <paramref name="drmFormat"/> image (sommelier asks GBM_BO_USE_LINEAR | SCANOUT).</summary>
    public static byte[] GetImageRequirements(uint width, uint height, uint drmFormat) => Bytes(new CrossDomainGetImageRequirements
    {
        Hdr = CrossDomainCommands.Header(CrossDomainCmd.GetImageRequirements, CrossDomainGetImageRequirements.Size),
        Width = width,
        Height = height,
        DrmFormat = drmFormat,
        Flags = GbmBoUseScanout | GbmBoUseLinear,
    });

    private const uint GbmBoUseScanout = 1 << 0, GbmBoUseLinear = 1 << 4;

    /// <summary>
    /// The query ring after GET_IMAGE_REQUIREMENTS. The proxy zeroes the ring before asking, so blob_id 0 or size 0
    /// means the host wrote nothing (it refused the query): an exception, never a stale layout.
    /// </summary>
    public static ImageRequirements ParseImageRequirements(ReadOnlySpan<byte> ring, uint width, uint height, uint drmFormat)
    {
        var answer = MemoryMarshal.Read<CrossDomainImageRequirements>(ring);
        if (answer.BlobId == 0 || answer.SizeBytes == 0)
            throw new InvalidOperationException($"the host has no layout for a {width}x{height} image of DRM format {Fourcc(drmFormat)}");
        return new ImageRequirements(answer.BlobId, answer.SizeBytes, answer.Strides[0], answer.Offsets[0]);
    }

    /// <summary>A DRM fourcc as its four letters (0x34325258 → "XR24").</summary>
    public static string Fourcc(uint code) =>
        string.Concat(Enumerable.Range(0, 4).Select(i => (char)((code >> (8 * i)) & 0xFF)).Select(c => c is >= ' ' and <= '~' ? c : '?'));

    public static byte[] Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers)
    {
        if (data.Length > MaxSendData || identifiers.Length > CrossDomainConstants.MaxIdentifiers)
            throw new ArgumentOutOfRangeException(nameof(data), "a SEND carries at most 4096 bytes and 28 identifiers");
        return CrossDomainCommands.Send(data, identifiers);
    }

    /// <summary>WRITE: bytes for the host write pipe <paramref name="pipeId"/>; <paramref name="hangUp"/> closes it after them.</summary>
    public static byte[] Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        if (data.Length > MaxWriteData)
            throw new ArgumentOutOfRangeException(nameof(data), $"a WRITE carries at most {MaxWriteData} bytes");
        return CrossDomainCommands.Write(pipeId, data, hangUp);
    }

    /// <summary>The message at the start of the channel ring. Host numbers are checked: a bad ring is an exception.</summary>
    public static CrossDomainReceived ParseRing(ReadOnlySpan<byte> ring)
    {
        var header = MemoryMarshal.Read<CrossDomainHeader>(ring);
        if (header.Cmd == (byte)CrossDomainCmd.Receive)
        {
            var message = MemoryMarshal.Read<CrossDomainSendReceive>(ring);
            if (message.NumIdentifiers > CrossDomainConstants.MaxIdentifiers || message.OpaqueDataSize > CrossDomainConstants.MaxSendReceiveData)
                throw new InvalidDataException($"RECEIVE with {message.NumIdentifiers} identifiers and {message.OpaqueDataSize} bytes");
            var ids = new CrossDomainIdentifier[message.NumIdentifiers];
            for (var i = 0; i < ids.Length; i++)
                ids[i] = new(message.Identifiers[i], message.IdentifierTypes[i], message.IdentifierSizes[i]);
            return new(header.Cmd, ring.Slice(CrossDomainSendReceive.Size, (int)message.OpaqueDataSize).ToArray(), ids);
        }
        if (header.Cmd == (byte)CrossDomainCmd.Read)
        {
            // READ: bytes the compositor wrote into a pipe the proxy sent as READ_PIPE (hang_up: it closed it).
            var read = MemoryMarshal.Read<CrossDomainReadWrite>(ring);
            if (read.OpaqueDataSize > CrossDomainConstants.MaxReadWriteData)
                throw new InvalidDataException($"READ with {read.OpaqueDataSize} bytes");
            var data = ring.Slice(CrossDomainReadWrite.Size, (int)read.OpaqueDataSize).ToArray();
            return new(header.Cmd, data, [new(read.Identifier, (uint)CrossDomainIdType.ReadPipe, 0)]) { PipeHangUp = read.HangUp != 0 };
        }
        throw new InvalidDataException($"unknown ring message {header.Cmd}");
    }

    /// <summary>A wire struct's bytes, as a guest puts them in a command buffer.</summary>
    public static byte[] Bytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();
}
