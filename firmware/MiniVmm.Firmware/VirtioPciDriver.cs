using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>What a payload's driver binds to and agrees to.</summary>
/// <param name="DeviceType">The virtio device id; the driver looks for PCI id 1af4:(0x1040 + type).</param>
/// <param name="Features">Feature bits to accept; the driver fails unless the device offers all of them.</param>
/// <param name="QueueSize">Entries of queue 0 (at most the device's maximum).</param>
/// <param name="SuccessText">Printed on COM1 before exit code 0.</param>
public sealed record VirtioDriverSpec(uint DeviceType, ulong Features, ushort QueueSize, string SuccessText)
{
    public uint ExpectedIds => ((0x1040 + DeviceType) << 16) | 0x1AF4;
}

/// <summary>One buffer of the request chain a payload posts.</summary>
public readonly record struct ChainBuffer(ulong Address, uint Length, bool Writable);

/// <summary>
/// A guest-side virtio-pci driver in a few hundred instructions, shared by the PCI payloads. It does what Linux's
/// virtio_pci_modern does, minus everything optional: scan bus 0 through conf1, find the device, walk its
/// capabilities (common, notify, ISR, device config, MSI-X), size and enable BAR 0, negotiate, program MSI-X
/// entry 0 (APIC 0, <see cref="Vector"/>), set up queue 0 and DRIVER_OK. The payload's own exchange then runs
/// (<see cref="PostChain"/>, <see cref="WaitForUsed"/>, its checks); the interrupt handler only counts.
/// Registers the exchange may rely on: r12d conf1 base, r13 BAR 0, r14 common config, r15 queue 0's notify address.
/// Exit codes: 0 = all passed; otherwise the failing step (the Fail* constants; payloads use 20 and up).
/// </summary>
public static partial class VirtioPciDriver
{
    public const byte Vector = 0x40;

    // Guest memory, inside the payload's zeroed data area.
    private const ulong Idt = PayloadPorts.DataAddress;
    private const ulong Idtr = PayloadPorts.DataAddress + 0x1000;
    private const ulong InterruptCount = PayloadPorts.DataAddress + 0x1010;
    private const ulong Found = PayloadPorts.DataAddress + 0x1020;           // bit n: vendor cap of cfg_type n seen
    private const ulong MsixCapability = PayloadPorts.DataAddress + 0x1024;
    private const ulong NotifyMultiplier = PayloadPorts.DataAddress + 0x1028;
    private const ulong CapOffsets = PayloadPorts.DataAddress + 0x1030;      // BAR offset per cfg_type, a dword each
    public const ulong Descriptors = PayloadPorts.DataAddress + 0x2000;
    public const ulong Available = PayloadPorts.DataAddress + 0x3000;
    public const ulong Used = PayloadPorts.DataAddress + 0x4000;
    /// <summary>Where payloads put their request and response bytes.</summary>
    public const ulong Request = PayloadPorts.DataAddress + 0x5000;
    public const ulong Response = PayloadPorts.DataAddress + 0x6000;

    // virtio_pci_cap.cfg_type values (virtio 1.2 §4.1.4).
    private const int CommonCfg = 1, NotifyCfg = 2, IsrCfg = 3, DeviceCfg = 4;

    public const byte FailNoDevice = 1, FailNoCapList = 2, FailMissingCaps = 3, FailBarSize = 4, FailFeatureNotOffered = 5,
        FailFeaturesRefused = 6, FailMsixBar = 7, FailNoQueue = 8, FailVectorRefused = 9, FailNeedsReset = 10,
        FailNoInterrupt = 11, FailUsedElement = 12;

    /// <summary>The whole payload: set-up, then <paramref name="exchange"/>, then success; the handler goes last.</summary>
    public static byte[] Build(VirtioDriverSpec spec, Action<PayloadBuilder> exchange)
    {
        var p = new PayloadBuilder();
        var a = p.Asm;
        var handler = a.CreateLabel();
        InstallHandler(a, handler);
        FindDevice(p, spec.ExpectedIds);
        WalkCapabilities(p);
        SizeAndEnableBar0(p);
        Negotiate(p, spec.Features);
        ProgramMsix(p);
        SetUpQueue(p, spec.QueueSize);
        exchange(p);
        p.SerialText(spec.SuccessText + "\n");
        p.Exit(0);

        a.Label(ref handler);
        a.push(rax);
        a.inc(__dword_ptr[InterruptCount]);
        a.mov(rax, PayloadPorts.LapicBase + 0xB0);
        a.mov(__dword_ptr[rax], 0); // EOI, or the LAPIC never delivers this vector again
        a.pop(rax);
        a.iretq();
        return p.ToElf();
    }

    /// <summary><paramref name="target"/> = the device-specific config structure (virtio_pci_cap cfg_type 4).</summary>
    public static void LoadDeviceConfig(Assembler a, AssemblerRegister64 target)
    {
        a.mov(eax, __dword_ptr[CapOffset(DeviceCfg)]);
        a.lea(target, __[r13 + rax]);
    }

    /// <summary>
    /// Writes the chain as descriptors 0.., publishes head 0 as request <paramref name="sequence"/> (avail idx
    /// sequence + 1), enables interrupts and notifies queue 0. Requests go one at a time, so once the previous one
    /// is used its descriptors are free again; <paramref name="sequence"/> must stay below the queue size.
    /// </summary>
    public static void PostChain(PayloadBuilder p, int sequence, params ChainBuffer[] buffers)
    {
        var a = p.Asm;
        for (int i = 0; i < buffers.Length; i++)
        {
            ulong entry = Descriptors + ((ulong)i * 16);
            bool last = i == buffers.Length - 1;
            a.mov(__dword_ptr[entry], (int)buffers[i].Address);
            a.mov(__dword_ptr[entry + 4], 0);
            a.mov(__dword_ptr[entry + 8], (int)buffers[i].Length);
            a.mov(__word_ptr[entry + 12], (short)((last ? 0 : 1) | (buffers[i].Writable ? 2 : 0))); // NEXT, WRITE
            a.mov(__word_ptr[entry + 14], (short)(last ? 0 : i + 1));
        }
        a.mov(__word_ptr[Available + 4 + (2 * (ulong)sequence)], 0); // ring[sequence] = head 0
        a.mov(__word_ptr[Available + 2], (short)(sequence + 1));     // idx
        a.sti();
        a.mov(__word_ptr[r15], 0);           // notify: queue index 0
    }

    /// <summary>
    /// Waits (bounded) until the handler ran and used idx is <paramref name="sequence"/> + 1, then checks the
    /// element of that request: head 0, <paramref name="length"/> written.
    /// </summary>
    public static void WaitForUsed(PayloadBuilder p, uint length, int sequence = 0)
    {
        var a = p.Asm;
        var wait = a.CreateLabel();
        var spin = a.CreateLabel();
        var done = a.CreateLabel();
        // Bounded: a couple of seconds of interpreted instructions on a software KVM.
        a.mov(ecx, 2_000_000);
        a.Label(ref wait);
        a.cmp(__dword_ptr[InterruptCount], 0);
        a.je(spin);
        a.cmp(__word_ptr[Used + 2], (short)(sequence + 1));
        a.je(done);
        a.Label(ref spin);
        a.pause();
        a.dec(ecx);
        a.jnz(wait);
        p.Fail(FailNoInterrupt);
        a.Label(ref done);
        ulong element = Used + 4 + (8 * (ulong)sequence);
        a.cmp(__dword_ptr[element], 0);
        p.Require(a.je, FailUsedElement);
        a.cmp(__dword_ptr[element + 4], (int)length);
        p.Require(a.je, FailUsedElement);
    }

    /// <summary>
    /// One request/response round trip: <paramref name="request"/> (built at assembly time, every byte stored, so
    /// nothing of an earlier request leaks in) at <see cref="Request"/>, <paramref name="responseLength"/> bytes
    /// back at <see cref="Response"/>, as request <paramref name="sequence"/>.
    /// </summary>
    public static void Exchange(PayloadBuilder p, int sequence, ReadOnlySpan<byte> request, uint responseLength)
    {
        if (request.Length % 4 != 0)
            throw new ArgumentException("requests are whole dwords", nameof(request));
        for (int i = 0; i < request.Length; i += 4)
            p.Asm.mov(__dword_ptr[Request + (ulong)i], System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(request[i..]));
        PostChain(p, sequence,
            new ChainBuffer(Request, (uint)request.Length, Writable: false),
            new ChainBuffer(Response, responseLength, Writable: true));
        WaitForUsed(p, responseLength, sequence);
    }

    private static ulong CapOffset(int cfgType) => CapOffsets + ((ulong)cfgType * 4);

    /// <summary>
    /// A 64-bit interrupt gate (selector 8, DPL 0) for <see cref="Vector"/>, the IDT loaded, the LAPIC software-enabled.
    /// The data area starts zeroed, so the gate's IST and reserved bytes need no writes.
    /// </summary>
    private static void InstallHandler(Assembler a, Label handler)
    {
        ulong gate = Idt + (Vector * 16UL);
        a.lea(rax, __[handler]);
        a.mov(__word_ptr[gate], ax);
        a.mov(__word_ptr[gate + 2], 0x08);
        a.mov(__byte_ptr[gate + 5], 0x8E); // present, DPL 0, 64-bit interrupt gate
        a.shr(rax, 16);
        a.mov(__word_ptr[gate + 6], ax);
        a.shr(rax, 16);
        a.mov(__dword_ptr[gate + 8], eax);
        a.mov(__word_ptr[Idtr], 256 * 16 - 1);
        a.mov(rax, Idt);
        a.mov(__qword_ptr[Idtr + 2], rax);
        a.lidt(__[Idtr]);
        a.mov(rbx, PayloadPorts.LapicBase);
        a.mov(__dword_ptr[rbx + 0xF0], 0x1FF); // spurious-vector register: software-enable the LAPIC
    }
}
