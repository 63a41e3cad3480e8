using MiniVmm.CrossDomain;
using MiniVmm.Wayland;

namespace MiniVmm.GuestProxy.Tests.Pipes;

/// <summary>A transport that passes everything on and keeps the identifiers of each SEND, in order.</summary>
internal sealed class RecordingTransport(ICrossDomainTransport inner) : ICrossDomainTransport
{
    private readonly List<CrossDomainIdentifier[]> _sends = [];

    /// <summary>Each SEND's identifiers so far.</summary>
    public List<CrossDomainIdentifier[]> Sends
    {
        get
        {
            lock (_sends)
                return [.. _sends];
        }
    }

    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<CrossDomainIdentifier> identifiers)
    {
        lock (_sends)
            _sends.Add(identifiers.ToArray());
        inner.Send(data, identifiers);
    }

    public void Connect() => inner.Connect();
    public void Write(uint pipeId, ReadOnlySpan<byte> data, bool hangUp) => inner.Write(pipeId, data, hangUp);
    public CrossDomainReceived? Receive(TimeSpan timeout) => inner.Receive(timeout);
    public Fd OpenHostBlob(uint blobId, ulong size) => inner.OpenHostBlob(blobId, size);
    public ImageRequirements GetImageRequirements(uint width, uint height, uint drmFormat) => inner.GetImageRequirements(width, height, drmFormat);
    public HostBlob CreateHostBlob(ImageRequirements image) => inner.CreateHostBlob(image);
    public void DestroyHostBlob(HostBlob blob) => inner.DestroyHostBlob(blob);
    public void Dispose() => inner.Dispose();
}
