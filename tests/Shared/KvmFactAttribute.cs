using MiniVmm.Kvm;
using Xunit;

namespace MiniVmm.Tests.Shared;

/// <summary>
/// Whether this host's KVM device opens, probed once per test process. Linked as source into the test projects
/// that need KVM (MiniVmm.TestSupport stays free of xUnit: the guest proxy ships it).
/// </summary>
public static class KvmAvailability
{
    /// <summary>Every KVM skip reason starts with this; tests/run.sh counts the skips by it.</summary>
    public const string SkipPrefix = "needs KVM:";

    /// <summary>The device the VMM would open: MINIVMM_KVM, as in `minivmm run`, else /dev/kvm.</summary>
    public static string Device => Environment.GetEnvironmentVariable("MINIVMM_KVM") is { Length: > 0 } device ? device : KvmSystem.DevicePath;

    private static readonly Lazy<string?> ProbedSkipReason = new(() => Probe(Device));

    /// <summary>Null where the device opens; otherwise why not, fit for xUnit's Skip.</summary>
    public static string? SkipReason => ProbedSkipReason.Value;

    /// <summary>Opens <paramref name="device"/> the way the VMM does (open + API version): null on success, else the reason.</summary>
    public static string? Probe(string device)
    {
        try
        {
            KvmSystem.Open(device).Dispose();
            return null;
        }
        catch (Exception error) when (error is KvmException or InvalidOperationException)
        {
            return $"{SkipPrefix} {device} cannot be opened on this host ({error.Message})";
        }
    }
}

/// <summary>A [Fact] that is skipped, with the reason, where the KVM device cannot be opened.</summary>
public sealed class KvmFactAttribute : FactAttribute
{
    public KvmFactAttribute() => Skip = KvmAvailability.SkipReason;
}

/// <summary>A [Theory] that is skipped, with the reason, where the KVM device cannot be opened.</summary>
public sealed class KvmTheoryAttribute : TheoryAttribute
{
    public KvmTheoryAttribute() => Skip = KvmAvailability.SkipReason;
}
