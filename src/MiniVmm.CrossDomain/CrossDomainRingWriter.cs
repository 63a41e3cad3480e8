using System.Runtime.InteropServices;

namespace MiniVmm.CrossDomain;

/// <summary>Why a host message does not fit a ring. The device then drops the message and logs; the guest is not at fault.</summary>
public enum CrossDomainRingError : byte
{
    None,
    /// <summary>The ring is shorter than the struct plus its data.</summary>
    RingTooSmall,
    /// <summary>More than 28 identifiers: the channel never produces this, so it marks a host bug.</summary>
    TooManyIdentifiers,
    /// <summary>A blob larger than 4 GiB: identifier_sizes are u32.</summary>
    SizeTooLarge,
}

/// <summary>
/// Formats what the host writes at offset 0 of a ring: RECEIVE and READ on the channel ring, the image requirements
/// on the query ring. The ring is a span over the ring's guest pages (one contiguous iovec, as every host assumes);
/// nothing is written unless the whole message fits.
/// </summary>
public static class CrossDomainRingWriter
{
    /// <summary>RECEIVE: Wayland bytes and the identifiers of the fds that came with them. No data and no ids is the hang-up message.</summary>
    public static CrossDomainRingError WriteReceive(Span<byte> ring, ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type, ulong Size)> identifiers)
    {
        if (identifiers.Length > CrossDomainConstants.MaxIdentifiers)
            return CrossDomainRingError.TooManyIdentifiers;
        if (data.Length > ring.Length - CrossDomainSendReceive.Size)
            return CrossDomainRingError.RingTooSmall;
        var message = new CrossDomainSendReceive
        {
            Hdr = Header(CrossDomainCmd.Receive, CrossDomainSendReceive.Size + data.Length),
            NumIdentifiers = (uint)identifiers.Length,
            OpaqueDataSize = (uint)data.Length,
        };
        for (var i = 0; i < identifiers.Length; i++)
        {
            if (identifiers[i].Size > uint.MaxValue)
                return CrossDomainRingError.SizeTooLarge;
            message.Identifiers[i] = identifiers[i].Id;
            message.IdentifierTypes[i] = identifiers[i].Type;
            message.IdentifierSizes[i] = (uint)identifiers[i].Size;
        }
        MemoryMarshal.Write(ring, in message);
        data.CopyTo(ring[CrossDomainSendReceive.Size..]);
        return CrossDomainRingError.None;
    }

    /// <summary>The empty RECEIVE that tells the guest proxy the compositor hung up (libkrun and upstream rutabaga).</summary>
    public static CrossDomainRingError WriteHangUp(Span<byte> ring) => WriteReceive(ring, default, default);

    /// <summary>READ: data from host read pipe <paramref name="pipeId"/>; <paramref name="hangUp"/> when the writer closed it.</summary>
    public static CrossDomainRingError WriteRead(Span<byte> ring, uint pipeId, ReadOnlySpan<byte> data, bool hangUp)
    {
        if (data.Length > ring.Length - CrossDomainReadWrite.Size)
            return CrossDomainRingError.RingTooSmall;
        var message = new CrossDomainReadWrite
        {
            Hdr = Header(CrossDomainCmd.Read, CrossDomainReadWrite.Size + data.Length),
            Identifier = pipeId,
            HangUp = hangUp ? 1u : 0u,
            OpaqueDataSize = (uint)data.Length,
        };
        MemoryMarshal.Write(ring, in message);
        data.CopyTo(ring[CrossDomainReadWrite.Size..]);
        return CrossDomainRingError.None;
    }

    /// <summary>The GET_IMAGE_REQUIREMENTS answer: the bare struct, no header, at offset 0 of the query ring.</summary>
    public static CrossDomainRingError WriteImageRequirements(Span<byte> ring, in CrossDomainImageRequirements requirements)
    {
        if (ring.Length < CrossDomainImageRequirements.Size)
            return CrossDomainRingError.RingTooSmall;
        MemoryMarshal.Write(ring, in requirements);
        return CrossDomainRingError.None;
    }

    // cmd_size is informative here (guests read num_identifiers/opaque_data_size), but a truthful value costs nothing;
    // it is a u16, and every message that fits a ring of up to 64 KiB fits it.
    private static CrossDomainHeader Header(CrossDomainCmd cmd, int size) =>
        new() { Cmd = (byte)cmd, CmdSize = (ushort)Math.Min(size, ushort.MaxValue) };
}
