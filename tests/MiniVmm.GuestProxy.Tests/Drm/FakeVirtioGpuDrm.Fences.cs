using MiniVmm.CrossDomain;
using MiniVmm.Gpu.Protocol;
using MiniVmm.GuestProxy.Drm;
using MiniVmm.TestSupport;
using static Tmds.Linux.LibC;

namespace MiniVmm.GuestProxy.Tests.Drm;

/// <summary>
/// EXECBUFFER and its fences: every submission is fenced; with RING_IDX the fence is on that ring's timeline and the
/// header says which ring; a fence on a ring of POLL_RINGS_MASK queues a drm_event {FENCE_SIGNALED, 8} for read().
/// Completions are taken from the used ring whenever the file is used (the kernel's interrupt handler, polled).
/// </summary>
internal sealed unsafe partial class FakeVirtioGpuDrm
{
    private const uint ExecbufFenceFdIn = 0x01, ExecbufFenceFdOut = 0x02;
    private const int GlobalTimeline = -1;
    private const int EventSpace = 4096; // drm_file.event_space: bytes of events reserved and not yet read
    // The model's queue slots hold 8 KiB chains (header, stream, response); the kernel's limit is larger.
    private const uint MaxModelledCommand = 8192 - 128;
    private readonly List<Fence> _fences = []; // emitted, not yet signalled, in emission order
    private readonly List<MockChain> _submitted = []; // SUBMIT_3D chains the device has not answered yet
    private readonly Queue<byte[]> _events = new();
    private readonly Dictionary<uint, ulong> _lastFenceOf = []; // GEM handle → the last fence of an EXECBUFFER that listed it
    private int _eventSpaceLeft = EventSpace;
    private ulong _nextFenceId;

    private sealed record Fence(ulong Id, int Timeline, bool SendsEvent);

    /// <summary>virtio_gpu_execbuffer_ioctl (6.1: in virtgpu_ioctl.c).</summary>
    private int ExecBuffer(DrmVirtGpuExecBuffer* exec)
    {
        if (!_hasVirgl)
            return -ENOSYS;
        if ((exec->Flags & ~(ExecbufFenceFdIn | ExecbufFenceFdOut | VirtGpuDrm.ExecbufRingIdx)) != 0)
            return -EINVAL;
        var timeline = GlobalTimeline;
        uint ring = 0;
        if ((exec->Flags & VirtGpuDrm.ExecbufRingIdx) != 0)
        {
            if (exec->RingIdx >= _numRings || !_ringsSet)
                return -EINVAL;
            ring = exec->RingIdx;
            timeline = (int)ring;
        }
        exec->FenceFd = -1;
        CreateContext();
        if ((exec->Flags & (ExecbufFenceFdIn | ExecbufFenceFdOut)) != 0)
            return -EOPNOTSUPP; // sync files: not modelled
        var handles = (uint*)exec->BoHandles;
        for (var i = 0; i < exec->NumBoHandles; i++)
        {
            if (!_handles.ContainsKey(handles[i]))
                return -ENOENT;
        }
        if (exec->Size > MaxModelledCommand)
            return -E2BIG; // a limit of the model, not of the kernel
        var stream = new ReadOnlySpan<byte>((void*)exec->Command, (int)exec->Size).ToArray();
        var sendsEvent = ring < 64 && (_pollRingsMask & (1UL << (int)ring)) != 0;
        if (sendsEvent)
        {
            if (_eventSpaceLeft < 8)
                return -ENOMEM; // drm_event_reserve_init: unread events fill the file's event space
            _eventSpaceLeft -= 8;
        }
        var fence = new Fence(++_nextFenceId, timeline, sendsEvent);
        _fences.Add(fence);
        for (var i = 0; i < exec->NumBoHandles; i++)
            _lastFenceOf[handles[i]] = fence.Id; // the kernel adds the fence to each listed object's reservation
        var command = new VirtioGpuCmdSubmit { Hdr = Header(VirtioGpuCtrlType.CMD_SUBMIT_3D), Size = (uint)stream.Length };
        command.Hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE;
        command.Hdr.FenceId = fence.Id;
        if (timeline != GlobalTimeline)
        {
            command.Hdr.Flags |= VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX;
            command.Hdr.RingIdx = (byte)ring;
        }
        Sent.Add($"{VirtioGpuCtrlType.CMD_SUBMIT_3D} 0");
        _submitted.Add(_gpu.Start(CrossDomainWire.Bytes(command), stream, 24));
        ProcessCompletions();
        return 0;
    }

    /// <summary>
    /// The driver's dequeue of answered commands: a fenced answer signals its fence and every earlier one on the same
    /// timeline (virtio_gpu_fence_event_process), each queueing its event if it has one.
    /// </summary>
    private void ProcessCompletions()
    {
        for (var i = 0; i < _submitted.Count; i++)
        {
            if (!_gpu.IsComplete(_submitted[i]))
                continue;
            var response = _gpu.Finish(_submitted[i]);
            _submitted.RemoveAt(i--);
            if (response.Type >= (uint)VirtioGpuCtrlType.RESP_ERR_UNSPEC)
                DeviceErrors.Add($"SUBMIT_3D: 0x{response.Type:x}");
            if ((response.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0)
                Signal(response.FenceId);
        }
    }

    private void Signal(ulong fenceId)
    {
        var signalled = _fences.Find(f => f.Id == fenceId);
        if (signalled is null)
            return; // already signalled through a later fence of its timeline
        foreach (var fence in _fences.Where(f => f.Timeline == signalled.Timeline && f.Id <= fenceId).ToArray())
        {
            _fences.Remove(fence);
            if (fence.SendsEvent)
            {
                var drmEvent = new byte[8];
                BitConverter.TryWriteBytes(drmEvent, VirtGpuDrm.EventFenceSignaled);
                BitConverter.TryWriteBytes(drmEvent.AsSpan(4), 8u); // length: the bare struct drm_event
                _events.Enqueue(drmEvent);
            }
        }
    }

    /// <summary>
    /// virtio_gpu_wait_ioctl: waits (15 s at most, then EBUSY; at once with VIRTGPU_WAIT_NOWAIT) until the fences of
    /// the EXECBUFFERs that listed the object have signalled. Sleeps on the device's interrupt, as the kernel does.
    /// </summary>
    private int Wait(DrmVirtGpuWait* wait)
    {
        const uint noWait = 1;
        var deadline = Environment.TickCount64 + ((wait->Flags & noWait) != 0 ? 0 : 15_000);
        while (true)
        {
            var seen = _gpu.Interrupts;
            lock (_lock)
            {
                if (!_open)
                    return -EBADF;
                if (!_handles.ContainsKey(wait->Handle))
                    return -ENOENT;
                ProcessCompletions();
                if (!_lastFenceOf.TryGetValue(wait->Handle, out var fenceId) || !_fences.Exists(f => f.Id == fenceId))
                    return 0;
            }
            if (!_gpu.WaitForInterrupt(seen, deadline - Environment.TickCount64))
                return -EBUSY;
        }
    }

    /// <summary>poll(POLLIN) on the file: sleeps on the device's interrupt (the kernel's fence wait queue), never spins.</summary>
    public int WaitForEvent(int timeoutMs)
    {
        var deadline = timeoutMs < 0 ? long.MaxValue / 2 : Environment.TickCount64 + timeoutMs;
        while (true)
        {
            var seen = _gpu.Interrupts;
            lock (_lock)
            {
                if (!_open)
                    return -EBADF;
                ProcessCompletions();
                if (_events.Count > 0)
                    return 1;
            }
            if (!_gpu.WaitForInterrupt(seen, deadline - Environment.TickCount64))
                return 0;
        }
    }

    /// <summary>drm_read: blocks for an event, then copies whole events while they fit (none fitting: 0 bytes).</summary>
    public long Read(byte* buffer, int length)
    {
        if (WaitForEvent(-1) < 0)
            return -EBADF;
        lock (_lock)
        {
            var copied = 0;
            while (_events.TryPeek(out var next) && next.Length <= length - copied)
            {
                next.CopyTo(new Span<byte>(buffer + copied, next.Length));
                copied += next.Length;
                _eventSpaceLeft += next.Length;
                _events.Dequeue();
            }
            return copied;
        }
    }
}
