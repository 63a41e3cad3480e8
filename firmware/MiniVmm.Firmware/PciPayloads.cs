using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// The PCI transport payload: <see cref="VirtioPciDriver"/> bound to a test echo device, one request/response
/// chain, and a check that the response holds the request's bytes.
/// Exit codes: 0 = all passed; <see cref="VirtioPciDriver"/>'s codes, or <see cref="FailEcho"/>.
/// </summary>
public static class PciPayloads
{
    /// <summary>The test device's virtio type: 63 is unassigned, so it can be nothing real.</summary>
    public const uint EchoDeviceType = 63;
    public const uint RequestLength = 16;
    public const byte FailEcho = 20;

    public static byte[] VirtioEcho() =>
        VirtioPciDriver.Build(new VirtioDriverSpec(EchoDeviceType, Features: 1UL << 32, QueueSize: 4, "PCI OK"), p =>
        {
            var a = p.Asm;
            a.mov(rax, 0x4F48_4345_2D49_4350); // "PCI-ECHO"
            a.mov(__qword_ptr[VirtioPciDriver.Request], rax);
            a.mov(rax, 0x2144_4E55_4F52_2D31); // "1-ROUND!"
            a.mov(__qword_ptr[VirtioPciDriver.Request + 8], rax);
            VirtioPciDriver.PostChain(p, 0,
                new ChainBuffer(VirtioPciDriver.Request, RequestLength, Writable: false),
                new ChainBuffer(VirtioPciDriver.Response, RequestLength, Writable: true));
            VirtioPciDriver.WaitForUsed(p, RequestLength);
            for (ulong half = 0; half < RequestLength; half += 8)
            {
                a.mov(rax, __qword_ptr[VirtioPciDriver.Response + half]);
                a.cmp(rax, __qword_ptr[VirtioPciDriver.Request + half]);
                p.Require(a.je, FailEcho);
            }
        });
}
