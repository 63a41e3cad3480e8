namespace MiniVmm.Machine.Cpu;

public enum CpuidRegister { Eax, Ebx, Ecx, Edx }

/// <summary>One CPUID feature bit, named as in Linux's /proc/cpuinfo flags (so clearcpuid= and our filter agree).</summary>
public readonly record struct CpuidFeature(string Name, uint Leaf, uint Subleaf, CpuidRegister Register, int Bit)
{
    /// <summary>The features users most often need to hide; extend the table rather than the parser.</summary>
    public static readonly IReadOnlyList<CpuidFeature> Known =
    [
        new("sse3", 1, 0, CpuidRegister.Ecx, 0),
        new("pclmulqdq", 1, 0, CpuidRegister.Ecx, 1),
        new("monitor", 1, 0, CpuidRegister.Ecx, 3),
        new("vmx", 1, 0, CpuidRegister.Ecx, 5),
        new("ssse3", 1, 0, CpuidRegister.Ecx, 9),
        new("fma", 1, 0, CpuidRegister.Ecx, 12),
        new("cx16", 1, 0, CpuidRegister.Ecx, 13),
        new("pdcm", 1, 0, CpuidRegister.Ecx, 15),
        new("pcid", 1, 0, CpuidRegister.Ecx, 17),
        new("sse4_1", 1, 0, CpuidRegister.Ecx, 19),
        new("sse4_2", 1, 0, CpuidRegister.Ecx, 20),
        new("x2apic", 1, 0, CpuidRegister.Ecx, 21),
        new("movbe", 1, 0, CpuidRegister.Ecx, 22),
        new("popcnt", 1, 0, CpuidRegister.Ecx, 23),
        new("tsc_deadline_timer", 1, 0, CpuidRegister.Ecx, 24),
        new("aes", 1, 0, CpuidRegister.Ecx, 25),
        new("xsave", 1, 0, CpuidRegister.Ecx, 26),
        new("avx", 1, 0, CpuidRegister.Ecx, 28),
        new("f16c", 1, 0, CpuidRegister.Ecx, 29),
        new("rdrand", 1, 0, CpuidRegister.Ecx, 30),
        new("hypervisor", 1, 0, CpuidRegister.Ecx, 31),
        new("mtrr", 1, 0, CpuidRegister.Edx, 12),
        new("fsgsbase", 7, 0, CpuidRegister.Ebx, 0),
        new("bmi1", 7, 0, CpuidRegister.Ebx, 3),
        new("avx2", 7, 0, CpuidRegister.Ebx, 5),
        new("smep", 7, 0, CpuidRegister.Ebx, 7),
        new("bmi2", 7, 0, CpuidRegister.Ebx, 8),
        new("erms", 7, 0, CpuidRegister.Ebx, 9),
        new("invpcid", 7, 0, CpuidRegister.Ebx, 10),
        new("avx512f", 7, 0, CpuidRegister.Ebx, 16),
        new("rdseed", 7, 0, CpuidRegister.Ebx, 18),
        new("adx", 7, 0, CpuidRegister.Ebx, 19),
        new("smap", 7, 0, CpuidRegister.Ebx, 20),
        new("sha_ni", 7, 0, CpuidRegister.Ebx, 29),
        new("umip", 7, 0, CpuidRegister.Ecx, 2),
        new("pku", 7, 0, CpuidRegister.Ecx, 3),
        new("la57", 7, 0, CpuidRegister.Ecx, 16),
        new("rdpid", 7, 0, CpuidRegister.Ecx, 22),
        new("rdtscp", 0x8000_0001, 0, CpuidRegister.Edx, 27),
        new("pdpe1gb", 0x8000_0001, 0, CpuidRegister.Edx, 26),
        new("abm", 0x8000_0001, 0, CpuidRegister.Ecx, 5),
    ];

    public static bool TryFind(string name, out CpuidFeature feature)
    {
        foreach (var candidate in Known)
        {
            if (string.Equals(candidate.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                feature = candidate;
                return true;
            }
        }
        feature = default;
        return false;
    }
}
