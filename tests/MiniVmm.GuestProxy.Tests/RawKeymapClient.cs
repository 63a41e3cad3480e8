using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniVmm.Sys;
using MiniVmm.Wayland;
using MiniVmm.Wayland.Protocol;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// A raw Wayland client that reads the keymap: registry, wl_seat, get_keyboard, then wl_keyboard.keymap and the
/// bytes behind its fd. The same code runs natively against Weston and through the proxy, so the two can be compared.
/// </summary>
internal static class RawKeymapClient
{
    private const uint Display = 1, Registry = 2, Callback = 3, Seat = 4, Keyboard = 5;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The keymap event's format and size, and <c>size</c> bytes read from its fd.</summary>
    public static (uint Format, uint Size, byte[] Contents) Fetch(string socketPath, uint seatVersion, Func<string> log)
    {
        using var client = UnixSocket.Connect(socketPath);
        using var fds = new FdQueue();
        var pending = new List<byte>();
        using var writer = new WireWriter();
        WlDisplay.GetRegistry(writer, Display, Registry);
        WlDisplay.Sync(writer, Display, Callback);
        Send(client, writer);
        (uint Name, uint Version)? seat = null;
        Receive(client, fds, pending, log, (message, body) =>
        {
            if (message == (Registry, WlRegistry.Events.Global) && Interface(body) == WlSeat.Name)
                seat = (BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[^4..]));
            return message == (Callback, WlCallback.Events.Done);
        });
        Assert.True(seat is not null, "no wl_seat on " + socketPath + "\n" + log());
        WlRegistry.Bind(writer, Registry, seat.Value.Name, WlSeat.Name, Math.Min(seatVersion, seat.Value.Version), Seat);
        WlSeat.GetKeyboard(writer, Seat, Keyboard);
        Send(client, writer);
        (uint Format, uint Size) keymap = default;
        Receive(client, fds, pending, log, (message, body) =>
        {
            if (message != (Keyboard, WlKeyboard.Events.Keymap))
                return false;
            keymap = (BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
            return true;
        });
        // No other event before it carries an fd, so the first one queued is the keymap's.
        Assert.True(fds.TryDequeue(out var fd), "wl_keyboard.keymap came without an fd\n" + log());
        using (fd)
        {
            using var handle = new SafeFileHandle(fd.Value, ownsHandle: false);
            var contents = new byte[keymap.Size];
            Assert.Equal(contents.Length, RandomAccess.Read(handle, contents, 0));
            return (keymap.Format, keymap.Size, contents);
        }
    }

    private static string Interface(ReadOnlySpan<byte> globalBody)
    {
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(globalBody[4..]);
        return Encoding.UTF8.GetString(globalBody.Slice(8, length - 1));
    }

    private static void Send(UnixSocket client, WireWriter writer)
    {
        Assert.Equal(writer.Written.Length, client.Send(writer.Written, [], out _));
        writer.Clear();
    }

    private delegate bool MessageHandler((uint Object, ushort Opcode) message, ReadOnlySpan<byte> body);

    /// <summary>Reads (bounded) until <paramref name="done"/> holds for a message; later bytes stay in <paramref name="pending"/>.</summary>
    private static void Receive(UnixSocket client, FdQueue fds, List<byte> pending, Func<string> log, MessageHandler done)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        while (true)
        {
            var bytes = pending.ToArray();
            var offset = 0;
            var found = false;
            while (!found && WireMessage.TryParse(bytes.AsSpan(offset), out var message, out _))
            {
                Assert.False(message.ObjectId == Display && message.Opcode == WlDisplay.Events.Error, "wl_display.error\n" + log());
                found = done((message.ObjectId, message.Opcode), message.Body);
                offset += message.Size;
            }
            pending.RemoveRange(0, offset);
            if (found)
                return;
            Assert.True(clock.Elapsed < Timeout, "the expected event did not come\n" + log());
            if (!Poll.WaitReadable(client.Handle, 100))
                continue;
            var read = client.Receive(buffer, fds, out _, out _);
            Assert.True(read != 0, "the server hung up\n" + log());
            if (read > 0)
                pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }
}
