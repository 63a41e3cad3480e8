using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>The keyboard half of the guest client: the keymap that a seated compositor sends as an fd.</summary>
internal sealed partial class GuestWaylandWindow
{
    /// <summary>Ids on a client that only reads the keymap (instead of <see cref="CreateToplevel"/>, whose ids start at 4 too).</summary>
    public const uint Seat = 4, Keyboard = 5;

    /// <summary>
    /// On a fresh client: the registry, wl_seat (at most <paramref name="seatVersion"/>), get_keyboard, then waits for
    /// wl_keyboard.keymap. Returns the event's format and size and the blob id its fd arrived as. From wl_seat v7 a
    /// client must map the keymap MAP_PRIVATE, and Weston 10 then sends its one sealed memfd; below v7 it sends a
    /// fresh writable copy: the two kinds of fd a guest can get.
    /// </summary>
    public (uint Format, uint Size, uint BlobId) ReadKeymap(uint seatVersion)
    {
        Assert.Empty(Globals); // the ids above assume nothing else was created
        using var writer = new WireWriter();
        ReadGlobals(writer);
        Assert.True(Globals.ContainsKey(WlSeat.Name), "the compositor has no wl_seat (Weston's headless backend has none)");
        WlRegistry.Bind(writer, Registry, Globals[WlSeat.Name], WlSeat.Name, Math.Min(seatVersion, Versions[WlSeat.Name]), Seat);
        WlSeat.GetKeyboard(writer, Seat, Keyboard);
        Flush(writer);
        var keymap = ReceiveUntil(m => m.Object == Keyboard && m.Opcode == WlKeyboard.Events.Keymap);
        // No other event of these objects carries an fd, so the keymap's is the only blob id.
        var blobId = Assert.Single(_blobIds);
        return (BinaryPrimitives.ReadUInt32LittleEndian(keymap.Body), BinaryPrimitives.ReadUInt32LittleEndian(keymap.Body.AsSpan(4)), blobId);
    }

    /// <summary>Reads <paramref name="length"/> bytes of the blob mapped at <paramref name="offset"/>: what the guest sees there.</summary>
    public static byte[] ReadThroughMapping(FakeHostVisibleRegion region, ulong offset, int length)
    {
        var (_, memfd) = region.Mappings[offset];
        using var handle = new SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false);
        var bytes = new byte[length];
        Assert.Equal(length, RandomAccess.Read(handle, bytes, 0));
        return bytes;
    }
}
