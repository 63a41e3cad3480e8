using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy;

/// <summary>
/// The compositor's bytes on their way to the client, framed into whole events, because some must be dropped: the
/// wl_display.delete_id that answers each destroy the proxy made itself (the compositor's pool under a client pool's
/// id is re-made for each buffer, see <see cref="Shm.ShmTracker"/>), since the client still owns that id, and the
/// events of objects the proxy made under a client's dead id (<see cref="HideEvent"/>). One delete_id is dropped per
/// <see cref="HideDeleteId"/>, one event per <see cref="HideEvent"/>, in order. A RECEIVE may end inside an event: the tail waits for the next one
/// (bounded: less than one message), and so do fds that came with no whole event, because a client needs each fd
/// no later than its event. <see cref="HideDeleteId"/> is called by the sending thread, the rest by the receiving one.
/// </summary>
internal sealed class ClientEventStream(ObjectInterfaces? interfaces = null)
{
    /// <summary>The client's objects, followed through the events here and the requests on the sending side.</summary>
    public ObjectInterfaces Interfaces { get; } = interfaces ?? new ObjectInterfaces();

    private readonly List<byte> _partial = [];
    private readonly List<Fd> _heldFds = [];
    private readonly Dictionary<uint, int> _hidden = []; // id → delete_ids still to drop; locked on itself
    private readonly Dictionary<uint, int> _hiddenEvents = []; // object id → its events still to drop; locked on _hidden

    /// <summary>The next wl_display.delete_id(<paramref name="id"/>) is the proxy's business, not the client's.</summary>
    public void HideDeleteId(uint id)
    {
        lock (_hidden)
            _hidden[id] = _hidden.GetValueOrDefault(id) + 1;
    }

    /// <summary>The next event addressed to object <paramref name="id"/> (a wl_callback.done the proxy asked for) is dropped.</summary>
    public void HideEvent(uint id)
    {
        lock (_hidden)
            _hiddenEvents[id] = _hiddenEvents.GetValueOrDefault(id) + 1;
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
            Interfaces.FollowEvent(message);
            if (!IsHidden(message))
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

    private bool IsHidden(WireMessage message)
    {
        lock (_hidden)
        {
            if (message.ObjectId != 1)
                return TakeOne(_hiddenEvents, message.ObjectId);
            return message.Opcode == WlDisplay.Events.DeleteId && message.Body.Length >= 4
                && TakeOne(_hidden, BinaryPrimitives.ReadUInt32LittleEndian(message.Body));
        }
    }

    private static bool TakeOne(Dictionary<uint, int> counts, uint id)
    {
        if (!counts.TryGetValue(id, out var count))
            return false;
        if (count == 1)
            counts.Remove(id);
        else
            counts[id] = count - 1;
        return true;
    }
}
