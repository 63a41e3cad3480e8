namespace MiniVmm.Memory.Tests;

public sealed class GuestAddressTests
{
    [Fact]
    public void TryAddRefusesToWrap()
    {
        Assert.True(new GuestAddress(0x1000).TryAdd(0x10, out var sum));
        Assert.Equal(0x1010UL, sum.Value);
        Assert.False(new GuestAddress(ulong.MaxValue - 1).TryAdd(2, out _));
        Assert.Throws<OverflowException>(() => new GuestAddress(ulong.MaxValue).Offset(1));
    }

    [Theory]
    [InlineData(0x1000UL, 0x1000UL, true)]
    [InlineData(0x1800UL, 0x1000UL, false)]
    [InlineData(0x10UL, 16UL, true)]
    [InlineData(0x10UL, 0UL, false)]
    public void IsAlignedChecksPowerOfTwoAlignment(ulong value, ulong alignment, bool expected) =>
        Assert.Equal(expected, new GuestAddress(value).IsAligned(alignment));
}
