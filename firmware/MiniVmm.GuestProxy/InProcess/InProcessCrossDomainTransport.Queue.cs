using System.Diagnostics;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;

namespace MiniVmm.GuestProxy.InProcess;

/// <summary>
/// The control queue, shared by the sending threads and the thread waiting on a POLL: chains are added under a lock,
/// and whoever drains the used ring records every head so each waiter finds its own. Heads identify chains, so no new
/// chain may start on the head of one still in flight: a POLL can wait while hundreds of WRITEs pass and wrap the
/// 256 descriptors, and a WRITE on its head would have its completion taken for the POLL's.
/// </summary>
public sealed partial class InProcessCrossDomainTransport
{
    private const uint CrossDomainPollSize = CrossDomainPoll.Size;

    private MockChain Start(byte[] command, byte[]? extra, int responseSize)
    {
        lock (_lock)
        {
            var buffers = new List<MockBuffer> { MockBuffer.Readable(command) };
            if (extra is { Length: > 0 })
                buffers.Add(MockBuffer.Readable(extra));
            buffers.Add(MockBuffer.WritableSpace((uint)responseSize));
            while (_inFlight.Contains(_nextHead))
            {
                // An unpublished one-descriptor chain moves the queue's cursor past the busy head. The device read
                // that chain's descriptors when it took it, so overwriting the slot changes nothing for it.
                _control!.WriteChain(MockBuffer.Readable([0]));
                _nextHead = (ushort)((_nextHead + 1) % _control.Size);
            }
            var chain = _control!.AddChain([.. buffers]);
            _nextHead = (ushort)((chain.Head + buffers.Count) % _control.Size);
            _inFlight.Add(chain.Head);
            _device!.QueueNotify(VirtioGpuConstants.ControlQueue);
            return chain;
        }
    }

    private bool WaitFor(MockChain chain, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (_lock)
            {
                foreach (var used in _control!.TakeUsed())
                    _completed.Add((ushort)used.Id);
                if (_completed.Remove(chain.Head))
                {
                    _inFlight.Remove(chain.Head);
                    return true;
                }
            }
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(1); // the device completes held fences on its own thread; 1 ms keeps a relay responsive
        }
    }

    private VirtioGpuCtrlHdr Header(MockChain chain) =>
        MemoryMarshal.Read<VirtioGpuCtrlHdr>(_control!.ReadBytes(chain.BufferAddresses[^1], 24));
}
