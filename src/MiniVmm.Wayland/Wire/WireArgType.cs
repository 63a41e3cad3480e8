using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>The eight argument types of the Wayland wire format.</summary>
public enum WireArgType : byte
{
    /// <summary>32-bit signed, little-endian.</summary>
    Int,
    /// <summary>32-bit unsigned, little-endian.</summary>
    UInt,
    /// <summary>Signed 24.8 fixed point in 32 bits.</summary>
    Fixed,
    /// <summary>u32 length including the NUL, the UTF-8 bytes, NUL, padding to 4; length 0 is a null string.</summary>
    String,
    /// <summary>u32 object id; 0 is null.</summary>
    Object,
    /// <summary>u32 id of an object the sender creates; without an interface it travels as (string, uint version, id).</summary>
    NewId,
    /// <summary>u32 byte length, the bytes, padding to 4.</summary>
    Array,
    /// <summary>No bytes in the body: the descriptor travels in SCM_RIGHTS ancillary data, in order.</summary>
    Fd,
}

/// <summary>Requests go client to compositor, events compositor to client.</summary>
public enum MessageDirection : byte
{
    Request,
    Event,
}
