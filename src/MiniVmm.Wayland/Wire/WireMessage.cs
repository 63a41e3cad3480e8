using System.Buffers.Binary;

namespace MiniVmm.Wayland;

/// <summary>
/// One framed message: header word 0 is the object id, word 1 is (size &lt;&lt; 16) | opcode, size counting the
/// 8-byte header; both little-endian. <see cref="Body"/> is what follows the header.
/// </summary>
public readonly ref struct WireMessage(uint objectId, ushort opcode, ReadOnlySpan<byte> body)
{
    public const int HeaderSize = 8;

    /// <summary>The size field is 16 bits, so no message is longer.</summary>
    public const int MaxSize = ushort.MaxValue;

    public uint ObjectId { get; } = objectId;
    public ushort Opcode { get; } = opcode;
    public ReadOnlySpan<byte> Body { get; } = body;
    public int Size => HeaderSize + Body.Length;

    /// <summary>
    /// Frames the first message in <paramref name="data"/>. False with <see cref="WireError.None"/> means more bytes
    /// are needed; false with another error means the stream is corrupt and cannot be resynchronised.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out WireMessage message, out WireError error)
    {
        message = default;
        error = WireError.None;
        if (data.Length < HeaderSize)
            return false;
        var objectId = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var word = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        var size = (int)(word >> 16);
        if (size < HeaderSize || size % 4 != 0)
        {
            error = WireError.BadMessageSize;
            return false;
        }
        if (data.Length < size)
            return false;
        message = new WireMessage(objectId, (ushort)word, data[HeaderSize..size]);
        return true;
    }
}
