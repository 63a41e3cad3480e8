using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy;

/// <summary>
/// The compositor's bytes on their way to the client, framed into whole events, because some must be dropped: the
/// wl_display.delete_id that answers each destroy the proxy made itself (a grown wl_shm pool is re-created under
/// the client's id, see <see cref="Shm.ShmTracker"/>), since the client still owns that id. One delete_id is dropped
/// per <see cref="HideDeleteId"/>, in order. A RECEIVE may end inside an event: the tail waits for the next one
/// (bounded: less than one message), and so do fds that came with no whole event, because a client needs each fd
/// no later than its event. <see cref="HideDeleteId"/> is called by the sending thread, the rest by the receiving one.
/// </summary>
internal sealed class ClientEventStream
{
    private readonly List<byte> _partial = [];
    private readonly List<Fd> _heldFds = [];
    private readonly Dictionary<uint, int> _hidden = []; // id → delete_ids still to drop; locked on itself

    /// <summary>The next wl_display.delete_id(<paramref name="id"/>) is the proxy's business, not the client's.</summary>
    public void HideDeleteId(uint id)
    {
        lock (_hidden)
            _hidden[id] = _hidden.GetValueOrDefault(id) + 1;
    }

    /// <summary>
    /// Adds one RECEIVE's bytes and the fds made from its identifiers (taken over from <paramref name="fds"/>).
    /// Returns the whole events now ready for the client, hidden delete_ids left out; <paramref name="fds"/> then
    /// holds the fds to send with them (held ones first), or nothing when no bytes are ready.
    /// </summary>
    public byte[] Take(ReadOnlySpan<byte> data, List<Fd> fds)
    {
        _partial.AddRange(data);
        _heldFds.AddRange(fds);
        fds.Clear();
        var bytes = CollectionsMarshal.AsSpan(_partial);
        var ready = new List<byte>(bytes.Length);
        var offset = 0;
        WireError error;
        while (WireMessage.TryParse(bytes[offset..], out var message, out error))
        {
            if (!IsHiddenDeleteId(message))
                ready.AddRange(bytes.Slice(offset, message.Size));
            offset += message.Size;
        }
        if (error != WireError.None)
            throw new InvalidDataException($"malformed event stream from the compositor ({error})");
        _partial.RemoveRange(0, offset);
        if (_heldFds.Count > UnixSocket.MaxFdsPerSend)
            throw new InvalidDataException($"{_heldFds.Count} compositor fds wait for one incomplete event");
        if (ready.Count > 0)
        {
            fds.AddRange(_heldFds);
            _heldFds.Clear();
        }
        return [.. ready];
    }

    /// <summary>When the session ends: closes fds still waiting for the rest of their event.</summary>
    public void CloseHeldFds()
    {
        _heldFds.ForEach(fd => fd.Dispose());
        _heldFds.Clear();
    }

    private bool IsHiddenDeleteId(WireMessage message)
    {
        if (message.ObjectId != 1 || message.Opcode != WlDisplay.Events.DeleteId || message.Body.Length < 4)
            return false;
        var id = BinaryPrimitives.ReadUInt32LittleEndian(message.Body);
        lock (_hidden)
        {
            if (!_hidden.TryGetValue(id, out var count))
                return false;
            if (count == 1)
                _hidden.Remove(id);
            else
                _hidden[id] = count - 1;
            return true;
        }
    }
}
