using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MiniVmm.Wayland;

/// <summary>
/// Encodes messages into an outgoing byte buffer and keeps the fds they carry until they are sent. The generated
/// request senders write here; a transport (the socket, or the guest proxy's cross-domain ring) drains it with
/// <see cref="Written"/>, <see cref="GetFd"/> and <see cref="Consume"/>. Not thread-safe: its owner serialises use.
/// </summary>
public sealed class WireWriter : IDisposable
{
    private byte[] _buffer = new byte[4096];
    private int _length;
    private int _messageStart = -1;
    // Each fd holds a DangerousAddRef on its SafeHandle so it stays open until the bytes that need it are sent.
    private readonly List<(SafeHandle Handle, int MessageStart)> _fds = [];

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public int FdCount => _fds.Count;

    public SafeHandle GetFd(int index) => _fds[index].Handle;

    /// <summary>Offset in <see cref="Written"/> of the message that carries fd <paramref name="index"/>.</summary>
    public int GetFdMessageStart(int index) => _fds[index].MessageStart;

    public int BeginMessage(uint objectId, ushort opcode)
    {
        if (_messageStart >= 0)
            ThrowHelper.InvalidOperation("BeginMessage called before the previous message was ended");
        _messageStart = _length;
        WriteUInt(objectId);
        WriteUInt(opcode);
        return _messageStart;
    }

    /// <summary>Patches the size into the header. A message over 65535 bytes is a caller bug and is dropped.</summary>
    public void EndMessage(int start)
    {
        var size = _length - start;
        _messageStart = -1;
        if (start < 0 || size < WireMessage.HeaderSize || size > WireMessage.MaxSize)
        {
            Truncate(Math.Max(start, 0));
            ThrowHelper.Argument($"a Wayland message must be 8..65535 bytes, this one is {size}", nameof(start));
        }
        var word = _buffer.AsSpan(start + 4, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(word, ((uint)size << 16) | BinaryPrimitives.ReadUInt16LittleEndian(word));
    }

    public void WriteUInt(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);

    public void WriteInt(int value) => WriteUInt((uint)value);

    public void WriteFixed(WlFixed value) => WriteUInt((uint)value.Raw);

    public void WriteObject(uint id) => WriteUInt(id);

    public void WriteNewId(uint id) => WriteUInt(id);

    /// <summary>Null becomes length 0; otherwise UTF-8, a NUL counted in the length, zero padding to 4 bytes.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteUInt(0);
            return;
        }
        if (value.Contains('\0', StringComparison.Ordinal))
            ThrowHelper.Argument("a Wayland string cannot contain NUL", nameof(value));
        var byteCount = Encoding.UTF8.GetByteCount(value);
        if (byteCount >= WireMessage.MaxSize)
            ThrowHelper.Argument("string is too long for a Wayland message", nameof(value));
        WriteUInt((uint)byteCount + 1);
        var target = Grow(Pad(byteCount + 1));
        target.Clear();
        Encoding.UTF8.GetBytes(value, target);
    }

    public void WriteStringUtf8(ReadOnlySpan<byte> value)
    {
        if (value.Length >= WireMessage.MaxSize)
            ThrowHelper.Argument("string is too long for a Wayland message", nameof(value));
        WriteUInt((uint)value.Length + 1);
        var target = Grow(Pad(value.Length + 1));
        target.Clear();
        value.CopyTo(target);
    }

    public void WriteArray(ReadOnlySpan<byte> value)
    {
        if (value.Length > WireMessage.MaxSize)
            ThrowHelper.Argument("array is too long for a Wayland message", nameof(value));
        WriteUInt((uint)value.Length);
        var target = Grow(Pad(value.Length));
        target.Clear();
        value.CopyTo(target);
    }

    /// <summary>Queues the fd for SCM_RIGHTS; the caller keeps ownership and may dispose it after calling this.</summary>
    public void WriteFd(SafeHandle fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var added = false;
        fd.DangerousAddRef(ref added);
        _fds.Add((fd, _messageStart < 0 ? _length : _messageStart));
    }

    /// <summary>Drops bytes and fds that have been sent.</summary>
    public void Consume(int byteCount, int fdCount)
    {
        if ((uint)byteCount > (uint)_length || (uint)fdCount > (uint)_fds.Count)
            ThrowHelper.ArgumentOutOfRange(nameof(byteCount));
        for (var i = 0; i < fdCount; i++)
            _fds[i].Handle.DangerousRelease();
        _fds.RemoveRange(0, fdCount);
        for (var i = 0; i < _fds.Count; i++)
            _fds[i] = (_fds[i].Handle, Math.Max(0, _fds[i].MessageStart - byteCount));
        _buffer.AsSpan(byteCount, _length - byteCount).CopyTo(_buffer);
        _length -= byteCount;
    }

    /// <summary>Forgets everything not yet sent (the connection is gone).</summary>
    public void Clear() => Truncate(0);

    public void Dispose() => Clear();

    private static int Pad(int length) => (length + 3) & ~3;

    private void Truncate(int length)
    {
        for (var i = _fds.Count - 1; i >= 0 && _fds[i].MessageStart >= length; i--)
        {
            _fds[i].Handle.DangerousRelease();
            _fds.RemoveAt(i);
        }
        _length = length;
    }

    private Span<byte> Grow(int count)
    {
        if (_buffer.Length - _length < count)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
