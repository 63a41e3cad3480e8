namespace MiniVmm.Sys.Tests;

public sealed class MemfdTests
{
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
