using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// virtio-gpu through the real transport: <see cref="VirtioPciDriver"/> bound to 1af4:1050, num_scanouts read from
/// the device config, VERSION_1 + EDID negotiated, and one GET_DISPLAY_INFO on controlq answered with the
/// configured mode. The layouts are virtio 1.2 §5.7.6 (virtio_gpu_ctrl_hdr, virtio_gpu_resp_display_info);
/// firmware does not reference the device project, so the integration test checks these sizes against it.
/// Exit codes: 0 = all passed; <see cref="VirtioPciDriver"/>'s codes, or the Fail* constants here.
/// </summary>
public static class GpuPayloads
{
    public const uint GpuDeviceType = 16;
    public const int FeatureEdid = 1;
    public const uint CmdGetDisplayInfo = 0x0100, RespOkDisplayInfo = 0x1101;
    public const uint CtrlHdrLength = 24, DisplayInfoLength = 408;
    /// <summary>pmodes[0] follows the header: rect { x, y, width, height }, enabled, flags.</summary>
    private const ulong Mode0Width = CtrlHdrLength + 8, Mode0Height = CtrlHdrLength + 12, Mode0Enabled = CtrlHdrLength + 16;
    /// <summary>virtio_gpu_config.num_scanouts (after events_read and events_clear).</summary>
    private const int NumScanoutsOffset = 8;

    public const byte FailScanouts = 20, FailResponseType = 21, FailWidth = 22, FailHeight = 23, FailNotEnabled = 24;

    /// <summary>Passes when scanout 0 is reported enabled at <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] DisplayInfo(int width, int height) =>
        VirtioPciDriver.Build(new VirtioDriverSpec(GpuDeviceType, (1UL << 32) | (1UL << FeatureEdid), QueueSize: 4, "GPU OK"), p =>
        {
            var a = p.Asm;
            VirtioPciDriver.LoadDeviceConfig(a, rsi);
            a.cmp(__dword_ptr[rsi + NumScanoutsOffset], 1);
            p.Require(a.je, FailScanouts);
            a.mov(__dword_ptr[VirtioPciDriver.Request], (int)CmdGetDisplayInfo); // the rest of the header stays 0
            VirtioPciDriver.PostChain(p, 0,
                new ChainBuffer(VirtioPciDriver.Request, CtrlHdrLength, Writable: false),
                new ChainBuffer(VirtioPciDriver.Response, DisplayInfoLength, Writable: true));
            VirtioPciDriver.WaitForUsed(p, DisplayInfoLength);
            Expect(p, VirtioPciDriver.Response, (int)RespOkDisplayInfo, FailResponseType);
            Expect(p, VirtioPciDriver.Response + Mode0Width, width, FailWidth);
            Expect(p, VirtioPciDriver.Response + Mode0Height, height, FailHeight);
            Expect(p, VirtioPciDriver.Response + Mode0Enabled, 1, FailNotEnabled);
        });

    private static void Expect(PayloadBuilder p, ulong address, int value, byte code)
    {
        p.Asm.cmp(__dword_ptr[address], value);
        p.Require(p.Asm.je, code);
    }
}
