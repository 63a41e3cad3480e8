using MiniVmm.Pci;
using MiniVmm.Sys;
using static MiniVmm.Virtio.Transport.VirtioPciConstants;

namespace MiniVmm.Virtio.Tests.Transport;

/// <summary>Guest-to-device notifications: ioeventfd registration, the event loop, and the MMIO fallback.</summary>
public sealed class VirtioPciNotifyTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly EventLoop _loop = new("test-events");

    public VirtioPciNotifyTests() => _loop.Start();

    public void Dispose() => _loop.Dispose();

    [Fact]
    public void IoEventFdsAreRegisteredAtTheNotifyAddressesWhenTheBarDecodes()
    {
        using var h = new VirtioPciDriverHarness(new FakeVirtioDevice(), ioEvents: true, loop: _loop);
        Assert.Empty(h.MemorySpace.IoEvents);
        h.Probe(); // enables memory decoding
        ulong notify = h.Bar0 + h.Caps[VIRTIO_PCI_CAP_NOTIFY_CFG].Offset;
        Assert.Equal(
            [(h.Transport.NotifyEventFd(0)!.Value, notify, 2u), (h.Transport.NotifyEventFd(1)!.Value, notify + 4, 2u)],
            h.MemorySpace.IoEvents);
        Assert.True(h.Transport.IoEventsAssigned);

        // The guest moves BAR 0: the ioeventfds follow it.
        h.ConfigWrite(PciConfigSpace.BarRegister(0), 4, 0xD000_0000);
        Assert.Equal([0xD000_3000UL, 0xD000_3004UL], h.MemorySpace.IoEvents.Select(e => e.Address));
        h.ConfigWrite(PciConfigSpace.PCI_COMMAND, 2, 0);
        Assert.Empty(h.MemorySpace.IoEvents);
        Assert.False(h.Transport.IoEventsAssigned);
    }

    [Fact]
    public void AnIoEventFdSignalReachesQueueNotifyOnTheLoopThread()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device, ioEvents: true, loop: _loop);
        h.BringUp(1UL << VIRTIO_F_VERSION_1);
        h.Transport.NotifyEventFd(1)!.Signal(); // what KVM does when the guest writes the notify address
        Assert.True(device.Notified.Wait(Wait));
        var (queue, thread) = Assert.Single(device.Notifies);
        Assert.Equal(1, queue);
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.Equal(0, h.Transport.MmioNotifies);
    }

    [Fact]
    public void WithoutIoEventFdsAnMmioNotifyStillReachesTheLoop()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device, ioEvents: false, loop: _loop);
        h.BringUp(1UL << VIRTIO_F_VERSION_1);
        Assert.False(h.Transport.IoEventsAssigned);
        h.Notify(0);
        Assert.True(device.Notified.Wait(Wait));
        Assert.Equal(0, device.Notifies.Single().Queue);
        Assert.NotEqual(Environment.CurrentManagedThreadId, device.Notifies.Single().ThreadId);
        Assert.Equal(1, h.Transport.MmioNotifies);
    }

    [Fact]
    public void NotifiesBeforeDriverOkOrAfterResetAreDropped()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device, ioEvents: true, loop: _loop);
        h.Probe();
        h.Transport.NotifyEventFd(0)!.Signal();
        DrainLoop();
        h.BringUp(1UL << VIRTIO_F_VERSION_1);
        h.Common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        h.Transport.NotifyEventFd(0)!.Signal();
        DrainLoop();
        h.BringUp(1UL << VIRTIO_F_VERSION_1);
        h.Transport.NotifyEventFd(0)!.Signal();
        Assert.True(device.Notified.Wait(Wait));
        Assert.Single(device.Notifies);
    }

    /// <summary>
    /// Returns once the loop has handled everything signalled before the call: a marker signalled twice,
    /// because the second wake can only come after the loop finished the batch holding the first.
    /// </summary>
    private void DrainLoop()
    {
        using var marker = new EventFd(nonBlocking: true);
        using var seen = new SemaphoreSlim(0);
        using var registration = _loop.AddEventFd(marker, () => seen.Release());
        for (int i = 0; i < 2; i++)
        {
            marker.Signal();
            Assert.True(seen.Wait(Wait));
        }
    }

    [Fact]
    public void WithoutAnEventLoopNotifiesAreDirect()
    {
        var device = new FakeVirtioDevice();
        using var h = new VirtioPciDriverHarness(device);
        h.BringUp(1UL << VIRTIO_F_VERSION_1);
        h.Notify(1);
        Assert.Equal([(1, Environment.CurrentManagedThreadId)], device.Notifies);
        h.Mmio(h.Caps[VIRTIO_PCI_CAP_NOTIFY_CFG].Offset + 2, 2, 0); // between queue slots: ignored
        Assert.Single(device.Notifies);
    }
}
