using System.Runtime.InteropServices;

namespace MiniVmm.CrossDomain;

/// <summary>
/// Splits a SUBMIT_3D payload into cross-domain commands: read a header, check cmd_size against the struct and the
/// bytes left, decode, advance by cmd_size. Every size comes from the guest, so each is checked before it is used
/// and a bad one ends the parse with a <see cref="CrossDomainParseError"/>; nothing here throws on input.
/// </summary>
public static class CrossDomainCommandParser
{
    /// <summary>
    /// Appends the commands of <paramref name="stream"/> to <paramref name="commands"/>. On failure the commands
    /// before the bad one stay in the list (a host processes a stream in order, as crosvm does) and
    /// <paramref name="errorOffset"/> says where the bad one starts.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> stream, List<CrossDomainCommand> commands, out CrossDomainParseError error, out int errorOffset)
    {
        var offset = 0;
        while (offset < stream.Length)
        {
            error = TryParseOne(stream, offset, out var command, out var size);
            if (error != CrossDomainParseError.None)
            {
                errorOffset = offset;
                return false;
            }
            commands.Add(command!);
            offset += size;
        }
        error = CrossDomainParseError.None;
        errorOffset = -1;
        return true;
    }

    private static CrossDomainParseError TryParseOne(ReadOnlySpan<byte> stream, int offset, out CrossDomainCommand? command, out int size)
    {
        command = null;
        var rest = stream[offset..];
        size = 0;
        if (rest.Length < CrossDomainHeader.Size)
            return CrossDomainParseError.TruncatedHeader;
        var header = MemoryMarshal.Read<CrossDomainHeader>(rest);
        size = header.CmdSize;
        // Checked before anything else: a cmd_size below the header would never advance the loop.
        if (size < CrossDomainHeader.Size)
            return CrossDomainParseError.CommandTooSmall;
        if (size > rest.Length)
            return CrossDomainParseError.CommandPastEnd;
        var body = rest[..size];
        return (CrossDomainCmd)header.Cmd switch
        {
            CrossDomainCmd.Init => ParseInit(body, offset, out command),
            CrossDomainCmd.GetImageRequirements => ParseImageRequirements(body, offset, out command),
            CrossDomainCmd.Poll => ParsePoll(body, offset, out command),
            CrossDomainCmd.Send => ParseSend(body, offset, out command),
            CrossDomainCmd.Write => ParseWrite(body, offset, out command),
            _ => CrossDomainParseError.UnknownCommand,
        };
    }

    private static CrossDomainParseError ParseInit(ReadOnlySpan<byte> body, int offset, out CrossDomainCommand? command)
    {
        command = null;
        if (body.Length < CrossDomainConstants.InitLegacySize)
            return CrossDomainParseError.CommandTooSmall;
        var queryRing = MemoryMarshal.Read<uint>(body[8..]);
        if (body.Length < CrossDomainInit.Size)
        {
            // Legacy: hdr, query_ring_id, channel_type; the host then uses the query ring as the channel ring too.
            command = new CrossDomainInitCommand(offset, queryRing, queryRing, MemoryMarshal.Read<uint>(body[12..]));
            return CrossDomainParseError.None;
        }
        // 20 bytes, or longer forms (libkrun's protocol_version, upstream's socket uuid) whose extra fields v1 ignores.
        var init = MemoryMarshal.Read<CrossDomainInit>(body);
        command = new CrossDomainInitCommand(offset, init.QueryRingId, init.ChannelRingId, init.ChannelType);
        return CrossDomainParseError.None;
    }

    private static CrossDomainParseError ParseImageRequirements(ReadOnlySpan<byte> body, int offset, out CrossDomainCommand? command)
    {
        command = null;
        if (body.Length < CrossDomainGetImageRequirements.Size)
            return CrossDomainParseError.CommandTooSmall;
        var request = MemoryMarshal.Read<CrossDomainGetImageRequirements>(body);
        command = new CrossDomainGetImageRequirementsCommand(offset, request.Width, request.Height, request.DrmFormat, request.Flags);
        return CrossDomainParseError.None;
    }

    private static CrossDomainParseError ParsePoll(ReadOnlySpan<byte> body, int offset, out CrossDomainCommand? command)
    {
        command = null;
        if (body.Length < CrossDomainPoll.Size)
            return CrossDomainParseError.CommandTooSmall;
        command = new CrossDomainPollCommand(offset);
        return CrossDomainParseError.None;
    }

    private static CrossDomainParseError ParseSend(ReadOnlySpan<byte> body, int offset, out CrossDomainCommand? command)
    {
        command = null;
        if (body.Length < CrossDomainSendReceive.Size)
            return CrossDomainParseError.CommandTooSmall;
        var send = MemoryMarshal.Read<CrossDomainSendReceive>(body);
        if (send.NumIdentifiers > CrossDomainConstants.MaxIdentifiers)
            return CrossDomainParseError.TooManyIdentifiers;
        // Compared as unsigned against what is left, so a huge opaque_data_size cannot overflow an addition.
        if (send.OpaqueDataSize > (uint)(body.Length - CrossDomainSendReceive.Size))
            return CrossDomainParseError.DataPastCommand;
        var identifiers = new (uint Id, uint Type)[send.NumIdentifiers];
        for (var i = 0; i < identifiers.Length; i++)
            identifiers[i] = (send.Identifiers[i], send.IdentifierTypes[i]);
        command = new CrossDomainSendCommand(offset, identifiers)
        {
            DataOffset = offset + CrossDomainSendReceive.Size,
            DataLength = (int)send.OpaqueDataSize,
        };
        return CrossDomainParseError.None;
    }

    private static CrossDomainParseError ParseWrite(ReadOnlySpan<byte> body, int offset, out CrossDomainCommand? command)
    {
        command = null;
        if (body.Length < CrossDomainReadWrite.Size)
            return CrossDomainParseError.CommandTooSmall;
        var write = MemoryMarshal.Read<CrossDomainReadWrite>(body);
        if (write.OpaqueDataSize > (uint)(body.Length - CrossDomainReadWrite.Size))
            return CrossDomainParseError.DataPastCommand;
        command = new CrossDomainWriteCommand(offset, write.Identifier, write.HangUp != 0)
        {
            DataOffset = offset + CrossDomainReadWrite.Size,
            DataLength = (int)write.OpaqueDataSize,
        };
        return CrossDomainParseError.None;
    }
}
