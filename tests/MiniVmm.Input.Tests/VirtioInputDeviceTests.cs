using System.Buffers.Binary;
using System.Text;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;

namespace MiniVmm.Input.Tests;

/// <summary>The device as the Linux virtio_input driver sees it: config space queries, the event and status queues.</summary>
public sealed class VirtioInputDeviceTests : IDisposable
{
    private const ulong MemorySize = 1 << 20;
    private readonly GuestMemory _memory = GuestMemory.CreateFlat(MemorySize);
    private readonly MockSplitQueue _events, _status;
    private readonly FakeVirtioInterrupt _interrupt = new();

    public VirtioInputDeviceTests()
    {
        _events = new MockSplitQueue(_memory, VirtioInputDevice.QueueSize, 0x1000, 0x40000);
        _status = new MockSplitQueue(_memory, VirtioInputDevice.QueueSize, 0x40000, MemorySize);
    }

    public void Dispose() => _memory.Dispose();

    private void Activate(VirtioInputDevice device) =>
        device.Activate(new VirtioActivation(0, [_events.CreateQueue(), _status.CreateQueue()], _interrupt));

    /// <summary>What virtio_input.c's virtinput_cfg_select does: write select and subsel, read size and the union.</summary>
    private static (byte Size, byte[] Union) Query(VirtioInputDevice device, byte select, int subsel)
    {
        device.WriteConfig(0, [select]);
        device.WriteConfig(1, [(byte)subsel]);
        var size = new byte[1];
        device.ReadConfig(2, size);
        var union = new byte[128];
        device.ReadConfig(8, union);
        return (size[0], union);
    }

    private static bool Bit(byte[] bitmap, int code) => (bitmap[code / 8] & (1 << (code % 8))) != 0;

    [Fact]
    public void The_keyboard_names_itself_and_has_every_key_and_three_leds()
    {
        var keyboard = VirtioInputDevice.Keyboard();
        Assert.Equal(18u, keyboard.DeviceType);
        var (size, name) = Query(keyboard, ConfigSelect.IdName, 0);
        Assert.Equal("MiniVmm Keyboard", Encoding.ASCII.GetString(name, 0, size));
        var (idSize, ids) = Query(keyboard, ConfigSelect.IdDevids, 0);
        Assert.Equal(8, idSize);
        Assert.Equal(InputCodes.BusVirtual, BinaryPrimitives.ReadUInt16LittleEndian(ids));
        var (keySize, keys) = Query(keyboard, ConfigSelect.EvBits, EventTypes.Key);
        Assert.Equal(InputCodes.LastKey / 8 + 1, keySize);
        Assert.True(Bit(keys, 30) && Bit(keys, 1) && Bit(keys, InputCodes.LastKey)); // KEY_A, KEY_ESC
        Assert.False(Bit(keys, 0) || Bit(keys, InputCodes.ButtonLeft));
        var (ledSize, leds) = Query(keyboard, ConfigSelect.EvBits, EventTypes.Led);
        Assert.Equal(1, ledSize);
        Assert.Equal(0b111, leds[0]);
        Assert.Equal(0, Query(keyboard, ConfigSelect.EvBits, EventTypes.Abs).Size);
        Assert.Equal(0, Query(keyboard, ConfigSelect.PropBits, 0).Size);
        Assert.Equal(0, Query(keyboard, 0x77, 0).Size);
    }

    [Fact]
    public void The_tablet_has_two_absolute_axes_with_their_range_and_buttons()
    {
        var tablet = VirtioInputDevice.Tablet();
        var (_, abs) = Query(tablet, ConfigSelect.EvBits, EventTypes.Abs);
        Assert.True(Bit(abs, InputCodes.AbsX) && Bit(abs, InputCodes.AbsY));
        var (infoSize, info) = Query(tablet, ConfigSelect.AbsInfo, InputCodes.AbsY);
        Assert.Equal(20, infoSize);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(info));
        Assert.Equal(InputCodes.AbsMax, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(4)));
        Assert.Equal(0, Query(tablet, ConfigSelect.AbsInfo, 5).Size);
        var (_, keys) = Query(tablet, ConfigSelect.EvBits, EventTypes.Key);
        Assert.True(Bit(keys, InputCodes.ButtonLeft) && Bit(keys, InputCodes.ButtonRight) && Bit(keys, InputCodes.ButtonMiddle));
    }

    [Fact]
    public void Events_fill_the_posted_buffers_in_order_and_wait_for_more()
    {
        var tablet = VirtioInputDevice.Tablet();
        Activate(tablet);
        var posted = Enumerable.Range(0, 4).Select(_ => _events.AddChain(MockBuffer.WritableSpace(8))).ToList();
        tablet.QueueNotify(VirtioInputDevice.EventQueue);
        tablet.Send(WindowInput.Motion(639, 0, 640, 480));
        tablet.Send(WindowInput.Button(InputCodes.ButtonLeft, pressed: true));
        var used = _events.TakeUsed();
        Assert.Equal(4, used.Count); // motion (3 events) and the button's key event; its SYN waits
        var events = posted.Select(chain => Read(chain.BufferAddresses[0])).ToList();
        Assert.Equal(new InputEvent(EventTypes.Abs, InputCodes.AbsX, InputCodes.AbsMax), events[0]);
        Assert.Equal(new InputEvent(EventTypes.Abs, InputCodes.AbsY, 0), events[1]);
        Assert.Equal(InputEvent.Sync, events[2]);
        Assert.Equal(new InputEvent(EventTypes.Key, InputCodes.ButtonLeft, 1), events[3]);
        var next = _events.AddChain(MockBuffer.WritableSpace(8));
        tablet.QueueNotify(VirtioInputDevice.EventQueue);
        Assert.Equal(InputEvent.Sync, Read(next.BufferAddresses[0]));
        Assert.NotEmpty(_interrupt.QueueSignals);
    }

    [Fact]
    public void Codes_the_device_does_not_have_are_not_sent_and_an_unread_backlog_is_bounded()
    {
        var keyboard = VirtioInputDevice.Keyboard();
        Activate(keyboard);
        keyboard.Send([new InputEvent(EventTypes.Abs, InputCodes.AbsX, 5), new InputEvent(EventTypes.Key, InputCodes.ButtonLeft, 1)]);
        for (int i = 0; i < 10_000; i++)
            keyboard.Send(WindowInput.Key(30, pressed: i % 2 == 0));
        Assert.True(keyboard.Dropped >= 2 * 10_000 - VirtioInputDevice.MaxBacklog, $"dropped {keyboard.Dropped}");
        var first = _events.AddChain(MockBuffer.WritableSpace(8));
        keyboard.QueueNotify(VirtioInputDevice.EventQueue);
        Assert.Equal(EventTypes.Key, Read(first.BufferAddresses[0]).Type); // whole batches were dropped: a key, not a stray SYN
    }

    [Fact]
    public void Led_changes_from_the_status_queue_reach_the_host()
    {
        var keyboard = VirtioInputDevice.Keyboard();
        Activate(keyboard);
        var received = new List<InputEvent>();
        keyboard.StatusReceived += received.Add;
        var led = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(led, EventTypes.Led);
        BinaryPrimitives.WriteUInt16LittleEndian(led.AsSpan(2), InputCodes.LedCapsLock);
        BinaryPrimitives.WriteUInt32LittleEndian(led.AsSpan(4), 1);
        _status.AddChain(MockBuffer.Readable(led));
        // A hostile status buffer: 4 GiB claimed readable is refused by the chain walk, the device lives on.
        _status.AddChain(MockBuffer.Raw(0x1000, uint.MaxValue, writable: false));
        keyboard.QueueNotify(VirtioInputDevice.StatusQueue);
        Assert.Equal([new InputEvent(EventTypes.Led, InputCodes.LedCapsLock, 1)], received);
        Assert.Equal(2, _status.TakeUsed().Count);
    }

    [Fact]
    public void Window_positions_scale_to_the_tablet_range_and_clamp()
    {
        Assert.Equal(16384u, WindowInput.Motion(50, 0, 101, 10)[0].Value); // half of 0..32767, rounded
        Assert.Equal(0u, WindowInput.Motion(-20, 0, 100, 100)[0].Value);
        Assert.Equal(InputCodes.AbsMax, WindowInput.Motion(0, 5000, 100, 100)[1].Value);
        Assert.Equal(unchecked((uint)-1), WindowInput.Wheel(1, 0)[0].Value);
    }

    private InputEvent Read(GuestAddress address)
    {
        var bytes = new byte[8];
        _memory.Read(address, bytes);
        return new InputEvent(BinaryPrimitives.ReadUInt16LittleEndian(bytes), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2)),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
    }
}
