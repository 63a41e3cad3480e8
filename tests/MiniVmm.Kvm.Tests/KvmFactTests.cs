namespace MiniVmm.Kvm.Tests;

/// <summary>[KvmFact]/[KvmTheory] skip exactly where the device does not open: never on a host with a working /dev/kvm.</summary>
public sealed class KvmFactTests
{
    [Fact]
    public void TheAttributesSkipOnlyWhenTheDeviceCannotBeOpened()
    {
        bool opens;
        try
        {
            KvmSystem.Open(KvmAvailability.Device).Dispose();
            opens = true;
        }
        catch (KvmException)
        {
            opens = false;
        }
        // Where the device opens nothing may be skipped; where it does not, both attributes skip with the reason.
        Assert.Equal(opens ? null : KvmAvailability.SkipReason, new KvmFactAttribute().Skip);
        Assert.Equal(opens ? null : KvmAvailability.SkipReason, new KvmTheoryAttribute().Skip);
        if (!opens)
            Assert.StartsWith(KvmAvailability.SkipPrefix, new KvmFactAttribute().Skip);
    }

    [Theory]
    [InlineData("/nonexistent/kvm", "errno 2")]    // no such device
    [InlineData("/dev/null", "KVM_GET_API_VERSION")] // opens, but is not KVM
    public void ADeviceThatDoesNotOpenAsKvmGivesAReasonNamingIt(string device, string why)
    {
        string? reason = KvmAvailability.Probe(device);
        Assert.NotNull(reason);
        Assert.StartsWith($"{KvmAvailability.SkipPrefix} {device} cannot be opened", reason);
        Assert.Contains(why, reason);
    }
}
