using System.Diagnostics;
using System.Runtime.InteropServices;
using MiniVmm.Gpu.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;

namespace MiniVmm.GuestProxy.InProcess;

/// <summary>
/// The control queue, shared by the sending thread and the thread waiting on a POLL: chains are added under a lock,
/// and whoever drains the used ring records every head so each waiter finds its own.
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
            var chain = _control!.AddChain([.. buffers]);
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
                    return true;
            }
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(1); // the device completes held fences on its own thread; 1 ms keeps a relay responsive
        }
    }

    private VirtioGpuCtrlHdr Header(MockChain chain) =>
        MemoryMarshal.Read<VirtioGpuCtrlHdr>(_control!.ReadBytes(chain.BufferAddresses[^1], 24));
}
