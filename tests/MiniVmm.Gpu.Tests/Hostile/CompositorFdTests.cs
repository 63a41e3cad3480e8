using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Memory;
using MiniVmm.Sys;

namespace MiniVmm.Gpu.Tests.Hostile;

/// <summary>
/// Issue 11 item 5: memfds shared with the compositor are sealed against shrinking, and a compositor fd is mapped only
/// when it is sealed against shrinking (else copied), so a compositor that truncates a shared file cannot make a later
/// read of the blob fault.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class CompositorFdTests : IDisposable
{
    private const ulong Size = 4096;
    private readonly VirtioGpuBackend _backend = new(GpuHarness.BlobOptions());
    private readonly GuestMemory _memory = GuestMemory.CreateFlat(1 << 20);

    public CompositorFdTests() =>
        Assert.False(_backend.CreateContext(1, VirtioGpuConstants.VIRTIO_GPU_CAPSET_CROSS_DOMAIN, "c").IsError);

    public void Dispose()
    {
        _backend.Reset();
        _memory.Dispose();
    }

    [Fact]
    public void MemfdsMiniVmmSharesCannotBeTruncated()
    {
        using var blob = MappedMemfd.TryCreate("test", Size, out string? error);
        Assert.True(blob is not null, error);
        Assert.ThrowsAny<UnauthorizedAccessException>(() => RandomAccess.SetLength(blob.Fd, 0)); // EPERM: sealed
        Assert.Equal(Size, (ulong)RandomAccess.GetLength(blob.Fd));
    }

    [Fact]
    public void AnUnsealedCompositorFileTruncatedAfterHandOverIsACopy()
    {
        using var file = UnsealedFile(Size, 0x5a);
        Assert.False(Adopt(2, Duplicate(file)).IsError);
        RandomAccess.SetLength(file, 0); // the compositor truncates its file after handing it over

        Assert.False(ShowOnScanout(2).IsError); // reads every byte of the framebuffer: a fault on main
        Assert.Equal(0x5a, _backend.Scanouts[0].Capture(PixelOrder.Bgra)!.Pixels[0]);
    }

    [Fact]
    public void AHugeSparseCompositorFileCostsOnlyTheBlobSize()
    {
        using var file = UnsealedFile(1UL << 40, 0x11); // 1 TiB, sparse
        Assert.False(Adopt(2, Duplicate(file)).IsError);
        Assert.Equal((long)Size, _backend.HostBytes);
        Assert.False(ShowOnScanout(2).IsError);
    }

    [Fact]
    public void ACompositorFileShorterThanTheBlobReadsZeroesPastItsEnd()
    {
        using var file = UnsealedFile(16, 0x77);
        Assert.False(Adopt(2, Duplicate(file), 2 * Size).IsError); // a second page the file does not have: SIGBUS on main
        Assert.False(ShowOnScanout(2).IsError);
        var pixels = _backend.Scanouts[0].Capture(PixelOrder.Bgra)!.Pixels;
        Assert.Equal(0x77, pixels[0]);
        Assert.Equal(0, pixels[16]);
        Assert.False(ShowOnScanout(2, offset: (uint)Size).IsError);
        Assert.Equal(0, _backend.Scanouts[0].Capture(PixelOrder.Bgra)!.Pixels[0]);
    }

    [Fact]
    public void ASealedCompositorMemfdIsSharedNotCopied()
    {
        using var compositor = MappedMemfd.TryCreate("compositor", Size, out string? _)!; // sealed against shrinking
        Assert.False(Adopt(2, compositor.Duplicate()!).IsError);
        compositor.GetSpan(0, 1)[0] = 0x33; // written after hand-over: the blob shows it, same pages
        Assert.False(ShowOnScanout(2).IsError);
        Assert.Equal(0x33, _backend.Scanouts[0].Capture(PixelOrder.Bgra)!.Pixels[0]);
    }

    private GpuResponse Adopt(uint id, SafeFileHandle fd, ulong size = Size) =>
        _backend.CreateBlob(_memory, 1, id, VirtioGpuConstants.VIRTIO_GPU_BLOB_MEM_HOST3D,
            VirtioGpuConstants.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 1, size, [], fd);

    private GpuResponse ShowOnScanout(uint id, uint offset = 0) =>
        _backend.SetScanoutBlob(0, id, new VirtioGpuRect(0, 0, 32, 32), 32, 32, (uint)VirtioGpuFormat.B8G8R8X8_UNORM, 128, offset);

    /// <summary>A tmpfs file (not a memfd, so it cannot be sealed) of <paramref name="length"/> bytes, the first page filled.</summary>
    internal static SafeFileHandle UnsealedFile(ulong length, byte fill)
    {
        string path = $"/dev/shm/minivmm-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        File.Delete(path);
        RandomAccess.SetLength(handle, (long)length);
        var bytes = new byte[Math.Min(length, Size)];
        Array.Fill(bytes, fill);
        RandomAccess.Write(handle, bytes, 0);
        return handle;
    }

    internal static SafeFileHandle Duplicate(SafeFileHandle handle) =>
        File.OpenHandle($"/proc/self/fd/{handle.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite);
}
