using System.Buffers.Binary;

namespace MiniVmm.NineP;

/// <summary>A qid: the server's identity of a file (type, version, a path unique within the share).</summary>
public readonly record struct Qid(byte Type, uint Version, ulong Path);

/// <summary>
/// Reads one T-message's fields in order (little-endian; strings as size[2] + bytes). Every read is checked: past the
/// end, <see cref="Ok"/> turns false and later reads return zeros, so a handler reads all fields, then checks once.
/// </summary>
public ref struct NinePReader
{
    private readonly ReadOnlySpan<byte> _message;
    private int _position;

    public NinePReader(ReadOnlySpan<byte> message, int position = NinePConstants.HeaderSize)
    {
        _message = message;
        _position = position;
        Ok = true;
    }

    /// <summary>False once any read ran past the message.</summary>
    public bool Ok { get; private set; }

    /// <summary>Bytes after the fields read so far.</summary>
    public readonly int Remaining => Ok ? _message.Length - _position : 0;

    public byte U8() => Take(1) is { IsEmpty: false } b ? b[0] : (byte)0;
    public ushort U16() => Take(2) is { IsEmpty: false } b ? BinaryPrimitives.ReadUInt16LittleEndian(b) : (ushort)0;
    public uint U32() => Take(4) is { IsEmpty: false } b ? BinaryPrimitives.ReadUInt32LittleEndian(b) : 0;
    public ulong U64() => Take(8) is { IsEmpty: false } b ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;

    /// <summary>A string's bytes as sent (Linux names are bytes, not necessarily UTF-8).</summary>
    public byte[] String() => Bytes(U16());

    public byte[] Bytes(int length) => Take(length).ToArray();

    /// <summary>A view of the next <paramref name="length"/> bytes (valid while the message is).</summary>
    public ReadOnlySpan<byte> Span(int length) => Take(length);

    private ReadOnlySpan<byte> Take(int length)
    {
        if (!Ok || length < 0 || length > _message.Length - _position)
        {
            Ok = false;
            return default;
        }
        var span = _message.Slice(_position, length);
        _position += length;
        return span;
    }
}

/// <summary>
/// Builds one R-message in a caller-owned buffer: <see cref="Begin"/>, the fields, <see cref="Finish"/> (which writes
/// size[4]). Writing past the buffer sets <see cref="Overflowed"/> instead of throwing; the server then answers an
/// error, so a reply never exceeds the negotiated msize.
/// </summary>
public sealed class NinePWriter
{
    private readonly byte[] _buffer;
    private int _position;

    public NinePWriter(int capacity) => _buffer = new byte[capacity];

    public int Capacity => _buffer.Length;
    public bool Overflowed { get; private set; }
    public int Length => _position;

    /// <summary>Room left for fields, given a limit below <see cref="Capacity"/> (the reply space the guest gave).</summary>
    public int RoomWithin(int limit) => Math.Max(0, Math.Min(limit, _buffer.Length) - _position);

    public void Begin(NinePMessageType type, ushort tag)
    {
        _position = 0;
        Overflowed = false;
        U32(0);
        U8((byte)type);
        U16(tag);
    }

    public ReadOnlySpan<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_position);
        return _buffer.AsSpan(0, _position);
    }

    public void U8(byte value) => Reserve(1)[0] = value;
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);
    public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
    public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    public void String(ReadOnlySpan<byte> value)
    {
        U16((ushort)value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    public void Qid(Qid qid)
    {
        U8(qid.Type);
        U32(qid.Version);
        U64(qid.Path);
    }

    /// <summary>Space for <paramref name="length"/> bytes the caller fills in place (read data).</summary>
    public Span<byte> Reserve(int length)
    {
        if (Overflowed || length > _buffer.Length - _position)
        {
            Overflowed = true;
            return new byte[length]; // discarded: the reply is replaced by an error
        }
        var span = _buffer.AsSpan(_position, length);
        _position += length;
        return span;
    }

    /// <summary>Gives back the unused tail of the last <see cref="Reserve"/> (a short read).</summary>
    public void Unreserve(int length) => _position -= Overflowed ? 0 : length;

    /// <summary>Where the next field goes (to patch a count written before its data).</summary>
    public int Position => _position;

    public void PatchU32(int position, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(position, 4), value);
}
