using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using MiniVmm.Sys;

namespace MiniVmm.Wayland;

/// <summary>
/// Reads arguments from a message body. Every length from the peer is checked against the bytes left before it is
/// used; a failed read returns false and leaves the reason in <see cref="Error"/>.
/// </summary>
public ref struct WireReader(ReadOnlySpan<byte> body, FdQueue? fds)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private readonly FdQueue? _fds = fds;
    private int _position;

    public WireError Error { get; private set; }

    public readonly bool AtEnd => _position == _body.Length;

    public readonly int Remaining => _body.Length - _position;

    public bool TryReadUInt(out uint value)
    {
        value = 0;
        if (Remaining < 4)
            return Fail(WireError.Truncated);
        value = BinaryPrimitives.ReadUInt32LittleEndian(_body[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadInt(out int value)
    {
        var ok = TryReadUInt(out var raw);
        value = (int)raw;
        return ok;
    }

    public bool TryReadFixed(out WlFixed value)
    {
        var ok = TryReadInt(out var raw);
        value = new WlFixed(raw);
        return ok;
    }

    public bool TryReadObject(bool nullable, out uint id)
    {
        if (!TryReadUInt(out id))
            return false;
        return id != 0 || nullable || Fail(WireError.NullObject);
    }

    public bool TryReadNewId(out uint id) => TryReadObject(nullable: false, out id);

    /// <summary>The string's UTF-8 bytes without the NUL; empty and true for an allowed null string.</summary>
    public bool TryReadStringUtf8(bool nullable, out ReadOnlySpan<byte> value, out bool isNull)
    {
        value = default;
        isNull = false;
        if (!TryReadUInt(out var length))
            return false;
        if (length == 0)
        {
            isNull = true;
            return nullable || Fail(WireError.NullString);
        }
        if (!TryTakePadded(length, out var bytes))
            return false;
        // The NUL is part of the length; an earlier NUL would make C peers see a different string than we do.
        if (bytes[^1] != 0 || bytes[..^1].Contains((byte)0))
            return Fail(WireError.BadString);
        value = bytes[..^1];
        return true;
    }

    /// <summary>Decodes as UTF-8; invalid sequences become U+FFFD rather than failing.</summary>
    public bool TryReadString(bool nullable, out string? value)
    {
        value = null;
        if (!TryReadStringUtf8(nullable, out var bytes, out var isNull))
            return false;
        if (!isNull)
            value = Encoding.UTF8.GetString(bytes);
        return true;
    }

    public bool TryReadArray(out ReadOnlySpan<byte> value)
    {
        value = default;
        return TryReadUInt(out var length) && TryTakePadded(length, out value);
    }

    /// <summary>Takes the next received fd; the caller owns it.</summary>
    public bool TryTakeFd([MaybeNullWhen(false)] out Fd fd)
    {
        fd = null;
        if (_fds is null || !_fds.TryDequeue(out fd))
        {
            Error = WireError.MissingFd;
            return false;
        }
        return true;
    }

    private bool TryTakePadded(uint length, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        // 64-bit arithmetic: a hostile length near 2^32 must not wrap to a small padded size.
        var padded = ((ulong)length + 3) & ~3UL;
        if (padded > (ulong)Remaining)
            return Fail(WireError.Truncated);
        bytes = _body.Slice(_position, (int)length);
        _position += (int)padded;
        return true;
    }

    private bool Fail(WireError error)
    {
        Error = error;
        return false;
    }
}
