using Microsoft.Win32.SafeHandles;
using MiniVmm.CrossDomain;
using MiniVmm.Memory;
using MiniVmm.Wayland;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// An <see cref="ICrossDomainTransport"/> for tracker tests: host blobs are memfds, each kept here (a second fd) so a
/// test can read what the tracker copied into it after the tracker closed its own; <see cref="Live"/> is what the
/// tracker has not freed. GET_IMAGE_REQUIREMENTS answers XR24/AR24 as MiniVmm's device does (rows of 64-byte
/// multiples, whole pages, a fresh blob_id each time) and refuses other formats. There is no compositor behind it.
/// </summary>
internal sealed class MemfdTransport : ICrossDomainTransport
{
    private readonly Dictionary<uint, SafeFileHandle> _blobs = [];
    private uint _nextResource = 100, _nextBlobId = 1000;

    /// <summary>Resource ids of blobs created and not yet destroyed, in creation order.</summary>
    public List<uint> Live { get; } = [];

    /// <summary>Every GET_IMAGE_REQUIREMENTS asked and its answer.</summary>
    public List<(uint Width, uint Height, uint Format, ImageRequirements Answer)> Queries { get; } = [];

    /// <summary>Every blob created: resource id, and the blob_id and size it was created with.</summary>
    public List<(uint ResourceId, uint BlobId, ulong Size)> Created { get; } = [];

    public ImageRequirements GetImageRequirements(uint width, uint height, uint drmFormat)
    {
        if (drmFormat is not (0x34325258 or 0x34325241))
            throw new InvalidOperationException($"the host has no layout for DRM format 0x{drmFormat:x}");
        var stride = (width * 4 + 63) & ~63u;
        var answer = new ImageRequirements(_nextBlobId++, ((ulong)stride * height + 4095) & ~4095UL, stride, 0);
        Queries.Add((width, height, drmFormat, answer));
        return answer;
    }

    public HostBlob CreateHostBlob(ImageRequirements image)
    {
        Assert.Contains(Queries, q => q.Answer == image); // crosvm's rule: only a blob_id and size the host answered
        var memfd = Memfd.TryCreate("blob", image.Size, out string? error) ?? throw new InvalidOperationException(error);
        var id = ++_nextResource;
        _blobs[id] = memfd;
        Live.Add(id);
        Created.Add((id, image.BlobId, image.Size));
        return new HostBlob(id, id, new Fd(LibC.fcntl((int)memfd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0)), image.Size);
    }

    public void DestroyHostBlob(HostBlob blob) => Assert.True(Live.Remove(blob.ResourceId), $"blob {blob.ResourceId} freed twice");

    /// <summary>Bytes [offset, offset+length) of blob <paramref name="id"/>.</summary>
    public byte[] Read(uint id, long offset, int length)
    {
        var bytes = new byte[length];
        Assert.Equal(length, RandomAccess.Read(_blobs[id], bytes, offset));
        return bytes;
    }

    public void Dispose()
    {
        foreach (var memfd in _blobs.Values)
            memfd.Dispose();
    }

    public void Connect() { }
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers) => throw new NotSupportedException();
    public CrossDomainReceived? Receive(TimeSpan timeout) => throw new NotSupportedException();
    public Fd OpenHostBlob(uint blobId, ulong size) => throw new NotSupportedException();
    public void Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp) => throw new NotSupportedException();
}
