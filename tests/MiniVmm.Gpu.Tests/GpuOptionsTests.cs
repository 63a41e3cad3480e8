namespace MiniVmm.Gpu.Tests;

public sealed class GpuOptionsTests
{
    [Fact]
    public void EmptyTextGivesDefaults()
    {
        Assert.True(GpuOptions.TryParse("", out var options, out string? error), error);
        Assert.Equal(new GpuOptions(), options);
        Assert.Equal(1024, options.Width);
        Assert.Equal(768, options.Height);
        Assert.True(options.Edid);
        Assert.Equal(1, options.Scanouts);
    }

    [Fact]
    public void AllKeysParse()
    {
        var options = GpuOptions.Parse(" width=1920 , height=1080,edid=off,scanouts=2");
        Assert.Equal(new GpuOptions { Width = 1920, Height = 1080, Edid = false, Scanouts = 2 }, options);
        Assert.True(GpuOptions.Parse("edid=ON").Edid);
    }

    [Theory]
    [InlineData("depth=24", "gpu option 'depth' is unknown (expected width, height, edid, scanouts, blob, contexts, hostmem, max-host-memory, winsrv)")]
    [InlineData("width", "gpu option 'width' is not of the form key=value")]
    [InlineData("width=abc", "gpu option width='abc' is not a decimal number")]
    [InlineData("width=-5", "gpu option width='-5' is not a decimal number")]
    [InlineData("edid=maybe", "gpu option edid='maybe' must be on or off")]
    [InlineData("width=800,width=640", "gpu option 'width' is given twice")]
    [InlineData("width=8", "gpu width 8 is out of range (16..4095)")]
    [InlineData("height=5000", "gpu height 5000 is out of range (16..4095)")]
    [InlineData("scanouts=17", "gpu scanouts 17 is out of range (1..16)")]
    [InlineData("scanouts=0", "gpu scanouts 0 is out of range (1..16)")]
    public void BadTextGivesAClearError(string text, string expected)
    {
        Assert.False(GpuOptions.TryParse(text, out _, out string? error));
        Assert.Equal(expected, error);
        Assert.Equal(expected, Assert.Throws<FormatException>(() => GpuOptions.Parse(text)).Message);
    }

    [Fact]
    public void BlobContextAndHostmemKeysParse()
    {
        var options = GpuOptions.Parse("blob=on,contexts=on,hostmem=256M");
        Assert.Equal(new GpuOptions { Blob = true, Contexts = true, HostMemoryBytes = 256UL << 20 }, options);
        Assert.Equal(0UL, GpuOptions.Parse("blob=on,hostmem=0").HostMemoryBytes);
        Assert.Equal(8UL << 30, GpuOptions.Parse("blob=on,hostmem=8G").HostMemoryBytes);
        // The same suffixes as --memory (one SizeParser): Mi and MiB are M.
        Assert.Equal(256UL << 20, GpuOptions.Parse("blob=on,hostmem=256Mi").HostMemoryBytes);
        Assert.Equal(1UL << 30, GpuOptions.Parse("blob=on,hostmem=1GiB").HostMemoryBytes);
    }

    [Theory]
    [InlineData("blob=on,hostmem=3M", "gpu hostmem 3145728 must be 0 or a power of two from 4K to 64G")]
    [InlineData("blob=on,hostmem=128G", "gpu hostmem 137438953472 must be 0 or a power of two from 4K to 64G")]
    [InlineData("hostmem=1M", "gpu hostmem needs blob=on (only blob resources are mapped there)")]
    [InlineData("blob=on,hostmem=lots", "gpu option hostmem='lots' is not a size (bytes, or a number with K, M, G or T)")]
    [InlineData("blob=on,hostmem=99999999999999999999G", "gpu option hostmem='99999999999999999999G' is not a size (bytes, or a number with K, M, G or T)")]
    public void BadHostmemGivesAClearError(string text, string expected)
    {
        Assert.False(GpuOptions.TryParse(text, out _, out string? error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void DeviceRejectsUncheckedOptions() =>
        Assert.Throws<ArgumentException>(() => new VirtioGpuDevice(new GpuOptions { Width = 0 }));
}
