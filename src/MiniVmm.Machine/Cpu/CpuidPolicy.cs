using MiniVmm.Kvm;

namespace MiniVmm.Machine.Cpu;

/// <summary>
/// Turns KVM's supported CPUID into what one vCPU sees: its APIC id, the hypervisor and TSC-deadline
/// bits (the latter saves the guest calibrating its APIC timer), and the features the user hid.
/// </summary>
public sealed class CpuidPolicy
{
    private readonly List<CpuidFeature> _hidden = [];

    public IReadOnlyList<CpuidFeature> Hidden => _hidden;

    /// <summary>Hides features by /proc/cpuinfo name; unknown names are an error the CLI reports.</summary>
    public void Hide(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (!CpuidFeature.TryFind(name, out var feature))
                throw new ArgumentException(
                    $"unknown CPUID feature '{name}' (known: {string.Join(", ", CpuidFeature.Known.Select(f => f.Name))})");
            _hidden.Add(feature);
        }
    }

    public KvmCpuidEntry2[] ForVcpu(ReadOnlySpan<KvmCpuidEntry2> supported, int apicId, int vcpuCount)
    {
        var entries = supported.ToArray();
        for (int i = 0; i < entries.Length; i++)
        {
            ref var entry = ref entries[i];
            if (entry.Function == 1)
            {
                // EBX[31:24] initial APIC id; EBX[23:16] logical processor count.
                entry.Ebx = (entry.Ebx & 0x0000_FFFF) | ((uint)apicId << 24) | ((uint)Math.Min(vcpuCount, 255) << 16);
                entry.Ecx |= 1u << 31; // hypervisor present
                entry.Ecx |= 1u << 24; // TSC deadline timer (the in-kernel LAPIC emulates it)
                if (vcpuCount > 1)
                    entry.Edx |= 1u << 28; // HTT: the logical processor count above is valid
            }
            else if (entry.Function == 0xB)
            {
                entry.Edx = (uint)apicId; // x2APIC id of this logical processor
            }
            foreach (var feature in _hidden)
            {
                if (entry.Function == feature.Leaf && (entry.Index == feature.Subleaf || (entry.Flags & KvmCpuidEntry2.FlagSignificantIndex) == 0))
                    Clear(ref entry, feature);
            }
        }
        return entries;
    }

    private static void Clear(ref KvmCpuidEntry2 entry, CpuidFeature feature)
    {
        uint mask = ~(1u << feature.Bit);
        switch (feature.Register)
        {
            case CpuidRegister.Eax: entry.Eax &= mask; break;
            case CpuidRegister.Ebx: entry.Ebx &= mask; break;
            case CpuidRegister.Ecx: entry.Ecx &= mask; break;
            case CpuidRegister.Edx: entry.Edx &= mask; break;
        }
    }
}
