namespace MiniVmm.CrossDomain;

/// <summary>
/// One decoded guest command of a SUBMIT_3D stream. Payload bytes (SEND's Wayland data, WRITE's pipe data) are not
/// copied: <see cref="DataOffset"/>/<see cref="DataLength"/> locate them in the stream the parser was given, already
/// checked to lie inside this command.
/// </summary>
public abstract record CrossDomainCommand(CrossDomainCmd Cmd, int Offset)
{
    public int DataOffset { get; init; }
    public int DataLength { get; init; }

    /// <summary>The payload inside <paramref name="stream"/>, the same span that was parsed.</summary>
    public ReadOnlySpan<byte> DataIn(ReadOnlySpan<byte> stream) => stream.Slice(DataOffset, DataLength);
}

/// <summary>INIT. For the 16-byte legacy form <see cref="ChannelRingId"/> is the query ring, as hosts have always done.</summary>
public sealed record CrossDomainInitCommand(int Offset, uint QueryRingId, uint ChannelRingId, uint ChannelType)
    : CrossDomainCommand(CrossDomainCmd.Init, Offset);

public sealed record CrossDomainGetImageRequirementsCommand(int Offset, uint Width, uint Height, uint DrmFormat, uint Flags)
    : CrossDomainCommand(CrossDomainCmd.GetImageRequirements, Offset);

public sealed record CrossDomainPollCommand(int Offset)
    : CrossDomainCommand(CrossDomainCmd.Poll, Offset);

/// <summary>SEND: Wayland bytes plus up to 28 (id, type) pairs; the types are checked by the channel, not here.</summary>
public sealed record CrossDomainSendCommand(int Offset, (uint Id, uint Type)[] Identifiers)
    : CrossDomainCommand(CrossDomainCmd.Send, Offset);

/// <summary>WRITE: data for the host write pipe <see cref="Identifier"/>; <see cref="HangUp"/> closes it afterwards.</summary>
public sealed record CrossDomainWriteCommand(int Offset, uint Identifier, bool HangUp)
    : CrossDomainCommand(CrossDomainCmd.Write, Offset);

/// <summary>Why a SUBMIT_3D stream is not a valid cross-domain command sequence. The device answers ERR_UNSPEC.</summary>
public enum CrossDomainParseError : byte
{
    None,
    /// <summary>Fewer than 8 bytes left where a header should start.</summary>
    TruncatedHeader,
    /// <summary>cmd_size is smaller than the command's struct (or than the header: it could never advance).</summary>
    CommandTooSmall,
    /// <summary>cmd_size runs past the end of the stream.</summary>
    CommandPastEnd,
    /// <summary>A cmd outside 1..7, or RECEIVE/READ, which only the host writes.</summary>
    UnknownCommand,
    /// <summary>num_identifiers above CROSS_DOMAIN_MAX_IDENTIFIERS (28).</summary>
    TooManyIdentifiers,
    /// <summary>opaque_data_size runs past cmd_size.</summary>
    DataPastCommand,
}
