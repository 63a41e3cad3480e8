using System.Runtime.CompilerServices;
using MiniVmm.Gpu.CrossDomain;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>The reconstructed winsrv layouts of docs/winsrv.md (UNCONFIRMED numbers, pinned so a correction is visible).</summary>
public sealed class WinsrvLayoutTests
{
    [Fact] public void Connect() => Assert.Equal(WinsrvConnect.Size, Unsafe.SizeOf<WinsrvConnect>());
    [Fact] public void TxHeader() => Assert.Equal(WinsrvTx.Size, Unsafe.SizeOf<WinsrvTx>());
    [Fact] public void RxIsHeaderPlus4096() => Assert.Equal(4240, WinsrvTx.Size + WinsrvNumbers.Reconstructed.MaxData);

    [Fact]
    public void NumbersCanBeOverridden()
    {
        var moved = WinsrvNumbers.Reconstructed with { FeatureBit = 24 };
        Assert.Equal((24, 1, 0x0400u), (moved.FeatureBit, WinsrvNumbers.Reconstructed.FeatureBit, moved.CmdConnect));
    }
}
