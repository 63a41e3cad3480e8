using System.Text;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy;

/// <summary>
/// The interface of each object of one client, as far as the generated protocol tables know it (core Wayland and
/// xdg-shell): followed through the new_id arguments of its requests (sending thread) and of the compositor's events
/// (receiving thread; a wl_data_offer is made by an event). What it is for: how many fds a request takes, so a pipe
/// waiting in the fd queue is sent with the request that uses it, never before a host blob the proxy makes for an
/// earlier request. Objects of other protocols stay unknown. Ids are overwritten when reused, never removed.
/// </summary>
internal sealed class ObjectInterfaces
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, InterfaceInfo> _objects = [];

    public ObjectInterfaces()
    {
        if (WaylandInterfaces.Find(WlDisplay.Name) is { } display)
            _objects[1] = display;
    }

    /// <summary>Follows a client request; the number of fds it takes, or null when its object's interface is unknown.</summary>
    public int? FollowRequest(WireMessage message) => Follow(message, MessageDirection.Request)?.FdCount;

    /// <summary>Follows a compositor event (objects it creates).</summary>
    public void FollowEvent(WireMessage message) => Follow(message, MessageDirection.Event);

    private MessageInfo? Follow(WireMessage message, MessageDirection direction)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(message.ObjectId, out var iface) || iface.GetMessage(direction, message.Opcode) is not { } info)
                return null;
            var reader = new WireReader(message.Body, null);
            foreach (var arg in info.Args)
            {
                if (arg.IsGenericNewId)
                {
                    if (!reader.TryReadStringUtf8(false, out var name, out _) || !reader.TryReadUInt(out _) || !reader.TryReadNewId(out var id))
                        break;
                    Set(id, WaylandInterfaces.Find(Encoding.UTF8.GetString(name)));
                }
                else if (arg.Type == WireArgType.NewId)
                {
                    if (!reader.TryReadNewId(out var id))
                        break;
                    Set(id, WaylandInterfaces.Find(arg.Interface!));
                }
                else if (!arg.TrySkip(ref reader))
                    break;
            }
            return info;
        }
    }

    private void Set(uint id, InterfaceInfo? iface)
    {
        if (iface is null)
            _objects.Remove(id); // a protocol the tables lack: unknown from now on
        else
            _objects[id] = iface;
    }
}
