using System.Runtime.InteropServices;

namespace MiniVmm.CrossDomain;

/// <summary>One identifier of a SEND or RECEIVE: a blob resource, a pipe, with its type and size.</summary>
public readonly record struct CrossDomainIdentifier(uint Id, uint Type, uint Size);

/// <summary>
/// The guest side's encoding of the cross-domain commands (the SUBMIT_3D stream a guest proxy sends), from the same
/// structs the device parses. It encodes what it is given, limits included: the guest proxy checks its own requests
/// first, while tests and the bench also build the hostile ones the device must refuse.
/// </summary>
public static class CrossDomainCommands
{
    public static byte[] Init(uint queryRing, uint channelRing, uint channelType) => CrossDomainWire.Bytes(new CrossDomainInit
    {
        Hdr = Header(CrossDomainCmd.Init, CrossDomainInit.Size),
        QueryRingId = queryRing,
        ChannelRingId = channelRing,
        ChannelType = channelType,
    });

    public static byte[] Poll() => CrossDomainWire.Bytes(new CrossDomainPoll { Hdr = Header(CrossDomainCmd.Poll, CrossDomainPoll.Size) });

    /// <summary>
    /// SEND of <paramref name="data"/> (padded to 4-byte multiples, as hosts want) naming <paramref name="identifiers"/>:
    /// num_identifiers is their count even past the struct's 28 slots, of which only the first 28 are filled.
    /// </summary>
    public static byte[] Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers)
    {
        var size = CrossDomainSendReceive.Size + ((data.Length + 3) & ~3);
        var message = new CrossDomainSendReceive
        {
            Hdr = Header(CrossDomainCmd.Send, size),
            NumIdentifiers = (uint)identifiers.Length,
            OpaqueDataSize = (uint)data.Length,
        };
        for (var i = 0; i < Math.Min(identifiers.Length, CrossDomainConstants.MaxIdentifiers); i++)
        {
            message.Identifiers[i] = identifiers[i].Id;
            message.IdentifierTypes[i] = identifiers[i].Type;
            message.IdentifierSizes[i] = identifiers[i].Size;
        }
        return WithPayload(message, CrossDomainSendReceive.Size, size, data);
    }

    /// <summary>WRITE: bytes for the host write pipe <paramref name="pipeId"/>; <paramref name="hangUp"/> closes it after them.</summary>
    public static byte[] Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        var size = CrossDomainReadWrite.Size + ((data.Length + 3) & ~3); // 4-byte multiples, as for SEND
        return WithPayload(new CrossDomainReadWrite
        {
            Hdr = Header(CrossDomainCmd.Write, size),
            Identifier = pipeId,
            HangUp = hangUp ? 1u : 0u,
            OpaqueDataSize = (uint)data.Length,
        }, CrossDomainReadWrite.Size, size, data);
    }

    public static CrossDomainHeader Header(CrossDomainCmd cmd, int size) => new() { Cmd = (byte)cmd, CmdSize = (ushort)size };

    private static byte[] WithPayload<T>(in T header, int headerSize, int size, ReadOnlySpan<byte> data) where T : unmanaged
    {
        var bytes = new byte[size];
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in header))[..headerSize].CopyTo(bytes);
        data.CopyTo(bytes.AsSpan(headerSize));
        return bytes;
    }
}
