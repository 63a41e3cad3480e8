using Microsoft.Win32.SafeHandles;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Memory;
using MiniVmm.Wayland;
using Tmds.Linux;

namespace MiniVmm.GuestProxy.Tests;

/// <summary>
/// An <see cref="ICrossDomainTransport"/> for tracker tests: host blobs are memfds, each kept here (a second fd) so a
/// test can read what the tracker copied into it after the tracker closed its own; <see cref="Live"/> is what the
/// tracker has not freed. There is no compositor behind it.
/// </summary>
internal sealed class MemfdTransport : ICrossDomainTransport
{
    private readonly Dictionary<uint, SafeFileHandle> _blobs = [];
    private uint _nextResource = 100;

    /// <summary>Resource ids of blobs created and not yet destroyed, in creation order.</summary>
    public List<uint> Live { get; } = [];

    public HostBlob CreateHostBlob(ulong size)
    {
        var memfd = Memfd.TryCreate("blob", size, out string? error) ?? throw new InvalidOperationException(error);
        var id = ++_nextResource;
        _blobs[id] = memfd;
        Live.Add(id);
        return new HostBlob(id, id, new Fd(LibC.fcntl((int)memfd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0)), size);
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
