using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;
using MiniVmm.TestSupport;
using static MiniVmm.Gpu.Protocol.VirtioGpuCtrlType;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// Sends fuzz commands through <see cref="GpuHarness"/> and checks every answer: it came back (nothing threw out of
/// the device), its type is a real response type, its length fits the buffer, the fence is echoed, the device did
/// not ask for a reset, and the shadow model's certain expectations and resource/context counts hold.
/// A fenced POLL on a timeline may stay with the device until the compositor answers or its context goes; such
/// chains are tracked and their late answers checked the same way.
/// </summary>
internal sealed class GpuFuzzDriver(GpuHarness harness, int seed)
{
    private const int RecentCount = 40;
    private readonly Queue<string> _recent = new();
    private readonly Dictionary<ushort, (FuzzCommand Command, MockChain Chain)> _held = [];

    public FuzzShadow Shadow { get; } = new();

    /// <summary>Chains the device still holds (fenced POLLs waiting for the compositor).</summary>
    public int HeldCount => _held.Count;

    public int Sent { get; private set; }

    /// <summary>Sends <paramref name="command"/>; returns its answer's type, or null while the device holds it.</summary>
    public VirtioGpuCtrlType? Send(FuzzCommand command)
    {
        Sent++;
        _recent.Enqueue($"#{Sent} {command}");
        if (_recent.Count > RecentCount)
            _recent.Dequeue();
        VirtioGpuCtrlType? answer;
        try
        {
            answer = command.OnCursorQueue ? SendCursor(command) : SendControl(command);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Check(false, $"the device threw {e}"); // still a failure: this only adds the seed and the commands
            throw;
        }
        if (answer is { } type)
        {
            Check(command.Expected is not { } expected || expected == type, $"expected {command.Expected}, got {type}");
            Shadow.Apply(command, type);
        }
        Check(harness.Interrupt.NeedsResetReasons.Count == 0, $"device asked for a reset: {string.Join("; ", harness.Interrupt.NeedsResetReasons)}");
        Check(harness.Device.Backend.ResourceCount == Shadow.LiveResources.Count,
            $"device holds {harness.Device.Backend.ResourceCount} resources, the guest was told of {Shadow.LiveResources.Count}");
        Check(harness.Device.Backend.ContextCount == Shadow.LiveContexts.Count,
            $"device holds {harness.Device.Backend.ContextCount} contexts, the guest was told of {Shadow.LiveContexts.Count}");
        return answer;
    }

    /// <summary>Fails with the seed, the reason and the last commands, so the failure replays.</summary>
    public void Check(bool condition, string why)
    {
        if (!condition)
            Assert.Fail($"seed {seed}, after {Sent} commands: {why}\nlast commands:\n{string.Join('\n', _recent)}\ndevice trace tail:\n{string.Join('\n', harness.Trace.TakeLast(10))}");
    }

    private VirtioGpuCtrlType? SendControl(FuzzCommand command)
    {
        // An indirect chain is published at once, so it cannot step around a head the device still holds.
        var layout = command.Layout == Layout.Indirect && _held.Count > 0 ? Layout.Linux : command.Layout;
        var chain = harness.QueueBytes(command.Request, command.ResponseSize, command.Extra, layout, _held.ContainsKey);
        harness.Device.QueueNotify(VirtioGpuConstants.ControlQueue);
        VirtioGpuCtrlType? answer = null;
        bool answered = false;
        foreach (var used in harness.Control.TakeUsed())
        {
            if ((ushort)used.Id == chain.Head && !answered)
            {
                answered = true;
                answer = CheckReply(command, chain, used.Len);
                continue;
            }
            Check(_held.Remove((ushort)used.Id, out var held), $"used head {used.Id} names no chain the device held");
            CheckReply(held.Command, held.Chain, used.Len);
        }
        if (!answered)
        {
            var hdr = command.Header;
            bool timelineSubmit = hdr.Type == (uint)CMD_SUBMIT_3D && (hdr.Flags & 3) == 3 && Shadow.CrossDomainContexts.Contains(hdr.CtxId);
            Check(timelineSubmit, "the device kept a chain that is not a fenced SUBMIT_3D on a cross-domain timeline");
            _held.Add(chain.Head, (command, chain));
        }
        return answer;
    }

    private VirtioGpuCtrlType? SendCursor(FuzzCommand command)
    {
        var buffers = new List<MockBuffer> { MockBuffer.Readable(command.Request) };
        if (command.ResponseSize > 0)
            buffers.Add(MockBuffer.WritableSpace((uint)command.ResponseSize));
        var chain = harness.Cursor.AddChain([.. buffers]);
        harness.Device.QueueNotify(VirtioGpuConstants.CursorQueue);
        var used = harness.Cursor.TakeUsed();
        Check(used.Count == 1 && used[0].Id == chain.Head, $"cursor queue returned {used.Count} chains");
        return command.ResponseSize > 0 ? CheckReply(command, chain, used[0].Len) : null;
    }

    /// <summary>The oracle for one used element; returns the answer's type when one was delivered.</summary>
    private VirtioGpuCtrlType? CheckReply(FuzzCommand command, MockChain chain, uint usedLength)
    {
        Check(usedLength <= (uint)command.ResponseSize, $"used length {usedLength} is past the {command.ResponseSize}-byte response buffer");
        if (usedLength == 0)
        {
            Check(!command.ResponseFits || command.ResponseSize == 0, "no answer although the response buffer fits every answer");
            return null;
        }
        Check(usedLength >= 24, $"used length {usedLength} is shorter than a header");
        var response = harness.Memory.Read<VirtioGpuCtrlHdr>(chain.BufferAddresses[^1]);
        var type = (VirtioGpuCtrlType)response.Type;
        Check(IsResponse(type), $"response type 0x{response.Type:x} is no virtio-gpu response");
        var request = command.Header;
        if (command.Gathered.Length >= 24 && (request.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0)
            Check((response.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0 && response.FenceId == request.FenceId, "fence not echoed");
        return type;
    }

    /// <summary>One of the RESP_OK_* or RESP_ERR_* values.</summary>
    public static bool IsResponse(VirtioGpuCtrlType type) =>
        type is >= RESP_OK_NODATA and <= RESP_OK_MAP_INFO or >= RESP_ERR_UNSPEC and <= RESP_ERR_INVALID_PARAMETER;
}
