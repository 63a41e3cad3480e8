using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Wayland;

/// <summary>Routing one event to its object, with the bookkeeping the protocol implies (new objects, destructors).</summary>
public sealed partial class WaylandConnection
{
    private static readonly InterfaceInfo UnknownInterface = new("?", 0, [], []);

    private void Dispatch(WireMessage message)
    {
        var id = message.ObjectId;
        if (!_objects.TryGetValue(id, out var entry))
        {
            if (_zombies.TryGetValue(id, out var zombie))
            {
                // Destroyed on our side but the compositor had not seen it yet: drop, but keep the fd queue in step.
                _fds.Discard(zombie.GetMessage(MessageDirection.Event, message.Opcode)?.FdCount ?? 0);
                return;
            }
            Close($"the compositor sent an event to unknown object {id}");
            return;
        }
        var info = entry.Interface.GetMessage(MessageDirection.Event, message.Opcode);
        Trace?.WriteLine("<-  " + WireTrace.Format(entry.Interface, id, MessageDirection.Event, message.Opcode, message.Body));
        if (info is null)
        {
            Close($"the compositor sent unknown event {WireTrace.Describe(entry.Interface, MessageDirection.Event, message.Opcode)}");
            return;
        }
        var error = RegisterNewObjects(info, message.Body);
        if (error == WireError.None)
        {
            if (entry.Dispatcher is null)
            {
                error = info.Validate(message.Body);
                _fds.Discard(info.FdCount);
            }
            else
            {
                var reader = new WireReader(message.Body, _fds);
                error = entry.Dispatcher(id, message.Opcode, ref reader);
            }
        }
        if (error != WireError.None)
            Close($"the compositor sent an invalid {entry.Interface.Name}.{info.Name} ({error})");
        else if (info.IsDestructor)
            Forget(id);
    }

    /// <summary>
    /// Events that create objects (wl_data_device.data_offer) name their ids; they enter the table without a
    /// dispatcher so their later events are recognised and dropped cleanly.
    /// </summary>
    private WireError RegisterNewObjects(MessageInfo info, ReadOnlySpan<byte> body)
    {
        if (!info.Args.Any(a => a.Type == WireArgType.NewId))
            return WireError.None;
        var reader = new WireReader(body, null);
        foreach (var arg in info.Args)
        {
            if (arg.Type != WireArgType.NewId)
            {
                if (!arg.TrySkip(ref reader))
                    return reader.Error;
                continue;
            }
            if (arg.IsGenericNewId || !reader.TryReadNewId(out var newId))
                return arg.IsGenericNewId ? WireError.None : reader.Error;
            if (newId < ObjectIdAllocator.FirstServerId || _objects.ContainsKey(newId))
                return WireError.UnknownObject;
            var iface = WaylandInterfaces.Find(arg.Interface!) ?? UnknownInterface;
            _objects[newId] = (iface, null);
        }
        return WireError.None;
    }
}
