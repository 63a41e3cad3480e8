using System.Buffers.Binary;
using System.Text;
using MiniVmm.Memory;
using MiniVmm.TestSupport;
using MiniVmm.Virtio;
using static MiniVmm.NineP.NinePMessageType;

namespace MiniVmm.NineP.Tests;

/// <summary>The virtio side: config space, requests through a driver-side split queue, and hostile chains.</summary>
public sealed class Virtio9pDeviceTests : IDisposable
{
    private const ulong MemorySize = 4 << 20;
    private readonly string _share = Directory.CreateTempSubdirectory("minivmm-9p-dev-").FullName;
    private readonly GuestMemory _memory = GuestMemory.CreateFlat(MemorySize);
    private readonly MockSplitQueue _driver;
    private readonly FakeVirtioInterrupt _interrupt = new();
    private readonly HostDirectory _directory;
    private readonly Virtio9pDevice _device;

    public Virtio9pDeviceTests()
    {
        File.WriteAllText(Path.Combine(_share, "file"), "over virtio");
        _directory = HostDirectory.Open(_share);
        _device = new Virtio9pDevice(new NinePServer(_directory, readOnly: false), "hostshare");
        _driver = new MockSplitQueue(_memory, Virtio9pDevice.QueueSize, 0x1000, MemorySize);
        _device.Activate(new VirtioActivation(Virtio9pDevice.MountTagFeature, [_driver.CreateQueue()], _interrupt));
    }

    public void Dispose()
    {
        _device.Dispose();
        _directory.Dispose();
        _memory.Dispose();
        Directory.Delete(_share, recursive: true);
    }

    [Fact]
    public void Config_space_holds_the_tag_length_and_the_tag()
    {
        Assert.Equal(9u, _device.DeviceType);
        Assert.Equal(Virtio9pDevice.MountTagFeature, _device.DeviceFeatures);
        var config = new byte[16];
        _device.ReadConfig(0, config);
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(config));
        Assert.Equal("hostshare", Encoding.ASCII.GetString(config, 2, 9));
        Assert.All(config[11..], b => Assert.Equal(0, b));
        var tail = new byte[4];
        _device.ReadConfig(9, tail);
        Assert.Equal("re\0\0"u8.ToArray(), tail); // offset 9 is the tag's eighth byte; past the end reads zero
    }

    [Fact]
    public void Requests_travel_the_queue_and_the_used_length_is_the_reply()
    {
        var client = new NinePClient(Exchange);
        client.Version(65536).Expect(Rversion);
        client.Attach(0).Expect(Rattach);
        client.Walk(0, 1, "file").Expect(Rwalk);
        client.Open(1, 0).Expect(Rlopen);
        var read = client.Read(1, 0, 100).Expect(Rread);
        Assert.Equal("over virtio", Encoding.UTF8.GetString(read.Data(4, (int)read.U32(0))));
        Assert.NotEmpty(_interrupt.QueueSignals);
        Assert.Empty(_interrupt.NeedsResetReasons);
    }

    private byte[] Exchange(byte[] request)
    {
        var chain = _driver.AddChain(MockBuffer.Readable(request), MockBuffer.WritableSpace(8192));
        _device.QueueNotify(0);
        var used = WaitForUsed();
        Assert.Equal(chain.Head, (ushort)used.Id);
        var reply = new byte[used.Len];
        _memory.Read(chain.BufferAddresses[1], reply);
        return reply;
    }

    private MiniVmm.Virtio.Queue.VirtqUsedElem WaitForUsed()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var used = _driver.TakeUsed();
            if (used.Count > 0)
                return Assert.Single(used);
            Thread.Sleep(1);
        }
        throw new TimeoutException("the device returned no chain in 10 s");
    }

    [Fact]
    public void A_chain_without_reply_space_or_with_a_truncated_request_is_returned_empty_and_the_device_serves_on()
    {
        _driver.AddChain(MockBuffer.Readable([1, 2, 3]), MockBuffer.WritableSpace(64));
        _device.QueueNotify(0);
        Assert.Equal(0u, WaitForUsed().Len);
        _driver.AddChain(MockBuffer.Readable(new byte[] { 11, 0, 0, 0, (byte)Tclunk, 0, 0, 0, 0, 0, 0 }));
        _device.QueueNotify(0);
        Assert.Equal(0u, WaitForUsed().Len);
        // A descriptor pointing outside guest memory: DEVICE_NEEDS_RESET, the process lives on.
        _driver.AddChain(MockBuffer.Raw(MemorySize + 4096, 64, writable: false), MockBuffer.WritableSpace(64));
        _device.QueueNotify(0);
        WaitForUsed();
        Assert.NotEmpty(_interrupt.NeedsResetReasons);
        new NinePClient(Exchange).Version(65536).Expect(Rversion);
    }

    [Fact]
    public void Reset_drops_every_fid()
    {
        var client = new NinePClient(Exchange);
        client.Version(65536).Expect(Rversion);
        client.Attach(0).Expect(Rattach);
        _device.Reset();
        _driver.Restart();
        _device.Activate(new VirtioActivation(Virtio9pDevice.MountTagFeature, [_driver.CreateQueue()], _interrupt));
        Assert.Equal(Errno.EBADF, client.GetAttributes(0).Errno);
    }
}
