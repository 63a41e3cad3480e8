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

    [Fact]
    public void MemfdMapsSharedPages()
    {
        using var fd = Memfd.TryCreate("test", 0x2000, out string? error);
        Assert.True(fd is not null, error);
        nint first = Memfd.TryMapShared(fd, 0x2000, allowReadOnly: false, out error);
        nint second = Memfd.TryMapShared(fd, 0x2000, allowReadOnly: false, out error);
        Assert.True(first != 0 && second != 0, error);
        unsafe
        {
            ((byte*)first)[0x1FFF] = 0x5A;
            Assert.Equal(0x5A, ((byte*)second)[0x1FFF]);
        }
        Memfd.Unmap(first, 0x2000);
        Memfd.Unmap(second, 0x2000);
    }
}
