namespace MiniVmm.Wayland;

/// <summary>
/// Client-side object ids: 1 is wl_display, new ones count up from 2, and an id is reused only after the compositor
/// confirmed its deletion (wl_display.delete_id). Ids from 0xFF000000 belong to the compositor.
/// </summary>
public sealed class ObjectIdAllocator
{
    public const uint FirstServerId = 0xFF000000;

    private readonly Stack<uint> _free = new();
    private uint _next = 2;

    public uint Allocate()
    {
        if (_free.TryPop(out var id))
            return id;
        if (_next >= FirstServerId)
            ThrowHelper.InvalidOperation("out of Wayland client object ids");
        return _next++;
    }

    /// <summary>Returns an id after delete_id; ids this allocator never handed out are ignored.</summary>
    public void Release(uint id)
    {
        if (id >= 2 && id < _next && !_free.Contains(id))
            _free.Push(id);
    }
}
