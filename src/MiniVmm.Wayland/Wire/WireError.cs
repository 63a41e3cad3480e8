namespace MiniVmm.Wayland;

/// <summary>Why bytes from a peer are not a valid message. Decoders return these; they never throw on input.</summary>
public enum WireError : byte
{
    None,
    /// <summary>The size field is below 8 or not a multiple of 4.</summary>
    BadMessageSize,
    /// <summary>An argument runs past the end of the message.</summary>
    Truncated,
    /// <summary>Bytes are left after the last argument of the signature.</summary>
    TrailingBytes,
    /// <summary>A string is missing its terminating NUL or contains one early.</summary>
    BadString,
    /// <summary>A null string where the protocol does not allow one.</summary>
    NullString,
    /// <summary>Object id 0 where the protocol does not allow null (or a new_id of 0).</summary>
    NullObject,
    /// <summary>The message needs an fd that did not arrive.</summary>
    MissingFd,
    /// <summary>The opcode is beyond the interface's messages.</summary>
    UnknownOpcode,
    /// <summary>The message targets an object id that does not exist.</summary>
    UnknownObject,
}
