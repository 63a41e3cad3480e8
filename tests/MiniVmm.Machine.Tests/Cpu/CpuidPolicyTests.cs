using MiniVmm.Kvm;
using MiniVmm.Machine.Cpu;

namespace MiniVmm.Machine.Tests.Cpu;

public sealed class CpuidPolicyTests
{
    private static KvmCpuidEntry2[] Supported() =>
    [
        new() { Function = 0, Eax = 0xD },
        new() { Function = 1, Eax = 0x806F8, Ebx = 0xFF00_0800, Ecx = 0x7FFA_3203, Edx = 0x0F8B_FBFF },
        new() { Function = 7, Index = 0, Flags = KvmCpuidEntry2.FlagSignificantIndex, Ebx = 0xFFFF_FFFF, Ecx = 0xFFFF_FFFF },
        new() { Function = 7, Index = 1, Flags = KvmCpuidEntry2.FlagSignificantIndex, Ebx = 0xFFFF_FFFF },
        new() { Function = 0xB, Index = 0, Flags = KvmCpuidEntry2.FlagSignificantIndex, Edx = 0 },
        new() { Function = 0x8000_0001, Ecx = 0xFFFF_FFFF, Edx = 0xFFFF_FFFF },
    ];

    private static KvmCpuidEntry2 Leaf(KvmCpuidEntry2[] entries, uint function, uint index = 0) =>
        entries.Single(e => e.Function == function && e.Index == index);

    [Fact]
    public void Leaf1CarriesTheApicIdHypervisorAndTscDeadline()
    {
        var entries = new CpuidPolicy().ForVcpu(Supported(), apicId: 3, vcpuCount: 4);
        var leaf1 = Leaf(entries, 1);
        Assert.Equal(3u, leaf1.Ebx >> 24);
        Assert.Equal(4u, (leaf1.Ebx >> 16) & 0xFF);
        Assert.Equal(0x0800u, leaf1.Ebx & 0xFFFF); // brand index and CLFLUSH size kept
        Assert.NotEqual(0u, leaf1.Ecx & (1u << 31));
        Assert.NotEqual(0u, leaf1.Ecx & (1u << 24));
        Assert.NotEqual(0u, leaf1.Edx & (1u << 28));
        Assert.Equal(3u, Leaf(entries, 0xB).Edx);
    }

    [Fact]
    public void OneVcpuDoesNotClaimHyperThreading()
    {
        var supported = Supported();
        supported[1].Edx &= ~(1u << 28);
        var leaf1 = Leaf(new CpuidPolicy().ForVcpu(supported, 0, 1), 1);
        Assert.Equal(0u, leaf1.Edx & (1u << 28));
    }

    [Fact]
    public void HiddenFeaturesAreClearedOnlyInTheirLeafAndSubleaf()
    {
        var policy = new CpuidPolicy();
        policy.Hide(["cx16", "SMAP", "rdtscp"]);
        var entries = policy.ForVcpu(Supported(), 0, 1);
        Assert.Equal(0u, Leaf(entries, 1).Ecx & (1u << 13));
        Assert.NotEqual(0u, Leaf(entries, 1).Ecx & (1u << 12)); // fma untouched
        Assert.Equal(0u, Leaf(entries, 7, 0).Ebx & (1u << 20));
        Assert.NotEqual(0u, Leaf(entries, 7, 1).Ebx & (1u << 20)); // other sub-leaf untouched
        Assert.Equal(0u, Leaf(entries, 0x8000_0001).Edx & (1u << 27));
    }

    [Fact]
    public void SupportedEntriesAreNotModifiedInPlace()
    {
        var supported = Supported();
        uint before = supported[1].Ecx;
        var policy = new CpuidPolicy();
        policy.Hide(["cx16"]);
        policy.ForVcpu(supported, 1, 2);
        Assert.Equal(before, supported[1].Ecx);
    }

    [Fact]
    public void UnknownFeatureNamesAreRejectedWithTheKnownList()
    {
        var error = Assert.Throws<ArgumentException>(() => new CpuidPolicy().Hide(["warp-drive"]));
        Assert.Contains("warp-drive", error.Message);
        Assert.Contains("cx16", error.Message);
    }
}
