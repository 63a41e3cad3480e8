using System.Text;
using MiniVmm.Boot;
using MiniVmm.Firmware;
using MiniVmm.Kvm;
using MiniVmm.Machine;
using MiniVmm.Memory;
using MiniVmm.Virtio;
using MiniVmm.Virtio.Queue;
using MiniVmm.Virtio.Transport;

namespace MiniVmm.Integration.Tests;

/// <summary>
/// The PCI and virtio-pci paths on the real /dev/kvm: conf1 enumeration, BAR sizing and MMIO dispatch,
/// MSI-X through a GSI route + irqfd, and the queue notify through a KVM ioeventfd and the event loop.
/// </summary>
public sealed class PciPayloadTests
{
    [KvmFact]
    public void GuestDriverGetsItsBufferEchoedAndAnMsixInterrupt()
    {
        var echo = new EchoDevice();
        var result = PciMachineRunner.Run(KernelImage.Parse(PciPayloads.VirtioEcho(), "pci-payload"), echo, "", TimeSpan.FromSeconds(60));
        Assert.True(result.Reason.ExitCode == 0, $"{result.Reason.Description}\nconsole: {result.Console}");
        Assert.Contains("PCI OK", result.Console);
        Assert.Equal(1, echo.Requests);
        Assert.Equal("PCI-ECHO1-ROUND!", echo.LastRequest);
        // The notify completed inside KVM (ioeventfd) and woke the event loop; no MMIO exit reached the BAR.
        Assert.True(result.IoEventsAssigned);
        Assert.Equal(0, result.MmioNotifies);
        Assert.Equal(1, result.IrqfdsAssigned); // only the vector the guest unmasked has a route and an irqfd
    }
}

/// <summary>
/// Linux 6.1's own virtio_pci and virtio_console drivers against the transport, on the small kernel
/// (no ACPI: MP table + conf1). Checks what only a real driver proves: the kernel keeps the BARs the
/// VMM pre-assigned (the 64-bit prefetchable one above RAM included), routes INTx through the MP table,
/// negotiates, enables MSI-X with one vector per queue plus config, and notifies through ioeventfds.
/// </summary>
public sealed class PciLinuxTests
{
    [KvmFact]
    [Trait("Category", "Slow")]
    public void LinuxVirtioConsoleDriverBindsThroughTheTransport()
    {
        string vmlinux = GuestImages.Require("small-vmlinux");
        var device = new QuietConsoleDevice();
        var result = PciMachineRunner.Run(KernelImage.Parse(File.ReadAllBytes(vmlinux), "small-vmlinux"), device,
            KernelCommandLine.Build("", KvmSystem.IsPvmHost), TimeSpan.FromSeconds(300),
            new VirtioPciOptions { SharedMemory = new VirtioSharedMemoryRegion(1, 8UL << 30) },
            machine => device.OnFirstNotify = () => machine.RequestStop(new StopReason(0, "the driver notified a queue")));
        string context = $"{result.Reason.Description}\nconsole:\n{MiniVmmProcess.Tail(result.Console)}";

        Assert.True(result.Reason.ExitCode == 0, context);
        Assert.Contains("pci 0000:00:00.0: [8086:0d57] type 00 class 0x060000", result.Console);
        Assert.Contains("BAR 0 [mem 0xc0000000-0xc0007fff]", result.Console);
        Assert.Contains("BAR 2 [mem 0x1000000000-0x11ffffffff 64bit pref]", result.Console);
        Assert.DoesNotContain("assigned", result.Console); // kept, not reassigned
        Assert.Contains("PCI->APIC IRQ transform: INT A -> IRQ 17", result.Console);
        Assert.Equal(0x0F, result.Status); // ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK
        Assert.NotEqual(0UL, device.NegotiatedFeatures & (1UL << VirtioPciConstants.VIRTIO_F_VERSION_1));
        Assert.Equal(3, result.IrqfdsAssigned); // config + receiveq + transmitq
        Assert.True(result.IoEventsAssigned);
        Assert.Equal(0, result.MmioNotifies);
    }

    /// <summary>virtio-console's identity and queues, doing nothing: enough for the driver to bind and post receive buffers.</summary>
    private sealed class QuietConsoleDevice : IVirtioDevice
    {
        private Action? _onFirstNotify;

        public Action? OnFirstNotify
        {
            set => Volatile.Write(ref _onFirstNotify, value);
        }

        public ulong NegotiatedFeatures { get; private set; }
        public uint DeviceType => 3;
        public ulong DeviceFeatures => 0;
        public IReadOnlyList<ushort> QueueMaxSizes { get; } = [64, 64];

        public void ReadConfig(uint offset, Span<byte> data) => data.Clear();

        public void WriteConfig(uint offset, ReadOnlySpan<byte> data)
        {
        }

        public void Activate(VirtioActivation activation) => NegotiatedFeatures = activation.NegotiatedFeatures;

        public void Reset()
        {
        }

        public void QueueNotify(int queueIndex) => Interlocked.Exchange(ref _onFirstNotify, null)?.Invoke();
    }
}

/// <summary>
/// One queue; each request chain's readable bytes are copied into its writable buffers. The rings are
/// walked by hand from the queue's public addresses, so this test does not depend on the queue code.
/// Runs on the event loop thread only.
/// </summary>
internal sealed class EchoDevice : IVirtioDevice
{
    private VirtioActivation? _activation;
    private ushort _nextAvail;

    public uint DeviceType => PciPayloads.EchoDeviceType;
    public ulong DeviceFeatures => 0;
    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [16];
    public int Requests { get; private set; }
    public string? LastRequest { get; private set; }

    public void ReadConfig(uint offset, Span<byte> data) => data.Clear();

    public void WriteConfig(uint offset, ReadOnlySpan<byte> data)
    {
    }

    public void Activate(VirtioActivation activation)
    {
        _activation = activation;
        _nextAvail = 0;
    }

    public void Reset() => _activation = null;

    public void QueueNotify(int queueIndex)
    {
        if (_activation?.Queues[queueIndex] is not { } queue)
            return;
        var memory = queue.Memory;
        ushort availIdx = memory.Read<ushort>(queue.AvailableRing.Offset(2));
        while (_nextAvail != availIdx)
        {
            ushort head = memory.Read<ushort>(queue.AvailableRing.Offset(4 + (2UL * (ulong)(_nextAvail % queue.Size))));
            uint written = Echo(queue, head);
            ushort usedIdx = memory.Read<ushort>(queue.UsedRing.Offset(2));
            var element = queue.UsedRing.Offset(4 + (8UL * (ulong)(usedIdx % queue.Size)));
            memory.Write(element, (uint)head);
            memory.Write(element.Offset(4), written);
            memory.Write(queue.UsedRing.Offset(2), (ushort)(usedIdx + 1));
            _nextAvail++;
            Requests++;
        }
        _activation.Interrupt.SignalQueue(queueIndex);
    }

    private uint Echo(Virtqueue queue, ushort head)
    {
        var memory = queue.Memory;
        var request = new List<byte>();
        uint written = 0;
        ushort index = head;
        for (int hops = 0; hops < queue.Size; hops++)
        {
            var descriptor = queue.DescriptorTable.Offset(16UL * index);
            ulong address = memory.Read<ulong>(descriptor);
            uint length = memory.Read<uint>(descriptor.Offset(8));
            ushort flags = memory.Read<ushort>(descriptor.Offset(12));
            var buffer = new byte[length];
            if ((flags & 2) == 0)
            {
                memory.Read(new GuestAddress(address), buffer);
                request.AddRange(buffer);
            }
            else
            {
                var reply = request.Skip((int)written).Take((int)length).ToArray();
                memory.Write(new GuestAddress(address), reply);
                written += (uint)reply.Length;
            }
            if ((flags & 1) == 0)
                break;
            index = memory.Read<ushort>(descriptor.Offset(14));
        }
        LastRequest = Encoding.ASCII.GetString(request.ToArray());
        return written;
    }
}
