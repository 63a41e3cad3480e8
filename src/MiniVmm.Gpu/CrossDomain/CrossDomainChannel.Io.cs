using System.Runtime.InteropServices;
using MiniVmm.Wayland;

namespace MiniVmm.Gpu.CrossDomain;

// Socket and pipe input: what becomes RECEIVE and READ.
public sealed partial class CrossDomainChannel
{
    /// <summary>The read ends the host polls for READ messages, by pipe id.</summary>
    public IEnumerable<KeyValuePair<uint, Fd>> ReadPipes => _readPipes;

    /// <summary>
    /// Reads what the compositor sent, without blocking. True when there is something for the guest: bytes (at most
    /// <see cref="CrossDomainConstants.MaxSendReceiveData"/>, so they fit one RECEIVE) with the identifiers of the fds
    /// that came with them, or <paramref name="hangUp"/> (the device then writes an empty RECEIVE). False when
    /// nothing is pending. Blob fds become host blobs through <see cref="ICrossDomainResources.RegisterHostFd"/>;
    /// write pipes get a channel-local id. Past 28 fds the rest are closed and counted in <see cref="FdsDropped"/>.
    /// </summary>
    public bool TryReceive(Span<byte> data, out int length, List<(uint Id, uint Type, ulong Size)> identifiers, out bool hangUp)
    {
        if (data.IsEmpty)
            throw new ArgumentException("the receive buffer must not be empty (a 0-byte read looks like a hang-up)", nameof(data));
        length = 0;
        hangUp = _hungUp;
        if (_hungUp)
            return true;
        var buffer = data[..Math.Min(data.Length, CrossDomainConstants.MaxSendReceiveData)];
        var count = _socket.Receive(buffer, _received, out var errno, out var fdError);
        if (count < 0 && errno == Errno.EAGAIN)
            return false;
        if (fdError != FdLoss.None)
            FdsDropped++;
        if (count <= 0)
        {
            // EOF, or a reset: either way the compositor is gone. Fds that came with the last bytes are moot.
            _hungUp = hangUp = true;
            _received.Dispose();
            _outgoing.Dispose();
            Report();
            return true;
        }
        length = count;
        TranslateReceived(identifiers);
        Report(); // write pipes the compositor sent
        return true;
    }

    /// <summary>
    /// Reads a host read pipe that has data or hit end-of-file, without blocking: true with the pipe's id, its bytes
    /// (at most <see cref="CrossDomainConstants.MaxReadWriteData"/>), and <paramref name="hangUp"/> at end-of-file,
    /// when the pipe is also forgotten. False when no pipe is ready.
    /// </summary>
    public bool TryReadPipe(Span<byte> data, out uint pipeId, out int length, out bool hangUp)
    {
        var buffer = data[..Math.Min(data.Length, CrossDomainConstants.MaxReadWriteData)];
        foreach (var (id, pipe) in _readPipes)
        {
            var count = pipe.Read(buffer, out var errno);
            if (count < 0 && errno == Errno.EAGAIN)
                continue;
            pipeId = id;
            length = Math.Max(count, 0);
            // A read error is treated like end-of-file: the guest must not wait for data that cannot come.
            hangUp = count <= 0;
            if (hangUp)
            {
                _readPipes.Remove(id);
                pipe.Dispose();
                Report();
            }
            return true;
        }
        pipeId = 0;
        length = 0;
        hangUp = false;
        return false;
    }

    private void TranslateReceived(List<(uint Id, uint Type, ulong Size)> identifiers)
    {
        var taken = 0;
        while (_received.TryDequeue(out var fd))
        {
            if (taken == CrossDomainConstants.MaxIdentifiers)
            {
                fd.Dispose();
                FdsDropped++;
                continue;
            }
            switch (CompositorFd.Classify(fd, out var size))
            {
                case HostFdKind.Blob:
                    var blobId = _resources.RegisterHostFd(fd, size);
                    if (blobId == 0)
                    {
                        FdsDropped++;
                        continue;
                    }
                    identifiers.Add((blobId, (uint)CrossDomainIdType.VirtgpuBlob, size));
                    break;
                case HostFdKind.WritePipe when _writePipes.Count + _drainingPipes.Count < MaxPipes && _ledger.HasRoomForPipe():
                    fd.SetNonBlocking();
                    var pipeId = _nextWritePipeId++;
                    _writePipes.Add(pipeId, new WritePipe(fd));
                    identifiers.Add((pipeId, (uint)CrossDomainIdType.WritePipe, 0));
                    break;
                default:
                    fd.Dispose();
                    FdsDropped++;
                    continue;
            }
            taken++;
        }
    }
}
