using System.Runtime.InteropServices;
using MiniVmm.Gpu.Backend;
using MiniVmm.Gpu.Protocol;
using MiniVmm.Virtio.Queue;

namespace MiniVmm.Gpu.Frontend;

/// <summary>
/// The virtio-gpu frontend: one chain in, one response out. Decodes the control header and the command
/// body (gathered across however many readable descriptors the driver used), dispatches to the backend,
/// echoes the fence, and encodes the response into the writable part. 2D commands complete synchronously,
/// so a fenced command's fence completes with its own response. Not thread-safe: the device serialises it.
/// </summary>
internal sealed partial class GpuFrontend
{
    private readonly VirtioGpuBackend _backend;
    private readonly Action<string>? _tracer;

    public GpuFrontend(VirtioGpuBackend backend, Action<string>? tracer)
    {
        _backend = backend;
        _tracer = tracer;
    }

    private bool Tracing => _tracer is not null;

    /// <summary>winsrv=on: takes CONNECT and DISCONNECT, which arrive as otherwise unknown control commands.</summary>
    internal Winsrv.WinsrvFrontend? Winsrv { get; set; }

    /// <summary>Serves one chain and returns the used length: the response's size, or 0 when it did not fit.</summary>
    public uint Process(DescriptorChain chain, int queueIndex)
    {
        var reader = chain.CreateReader();
        var writer = chain.CreateWriter();
        string queue = queueIndex == VirtioGpuConstants.CursorQueue ? "cursor" : "ctrl";
        GpuResponse response;
        string command;
        string? fields = null;
        if (!reader.TryRead(out VirtioGpuCtrlHdr hdr))
        {
            hdr = default;
            command = "(truncated)";
            response = GpuResponse.ErrUnspec($"request of {reader.Remaining} bytes is shorter than the 24-byte header");
        }
        else
        {
            command = GpuResponse.TypeName((VirtioGpuCtrlType)hdr.Type);
            response = queueIndex == VirtioGpuConstants.CursorQueue
                ? DispatchCursor(in hdr, reader, out fields)
                : DispatchControl(in hdr, reader, chain.Memory, out fields);
        }

        bool written = Encode(in hdr, response, writer);
        if (_tracer is not null)
        {
            // Linux sends cursor commands without a response buffer: only a missing control response is news.
            bool expected = queueIndex == VirtioGpuConstants.ControlQueue || chain.WritableLength > 0;
            _tracer(FormatTrace(queue, command, fields, in hdr, response, written || !expected, writer.Remaining));
        }
        return written ? writer.BytesWritten : 0;
    }

    /// <summary>Writes header (with the fence echoed) and body, or nothing when the writable space is too small.</summary>
    private static bool Encode(in VirtioGpuCtrlHdr request, GpuResponse response, DescriptorChainWriter writer)
    {
        if (writer.Remaining < (uint)response.EncodedLength)
            return false;
        var hdr = new VirtioGpuCtrlHdr { Type = (uint)response.Type };
        if ((request.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0)
        {
            // Spec 5.7.6.7: the response carries FENCE and the same fence_id (and timeline, with INFO_RING_IDX).
            hdr.Flags = VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE | (request.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX);
            hdr.FenceId = request.FenceId;
            hdr.CtxId = request.CtxId;
            if ((request.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX) != 0)
                hdr.RingIdx = request.RingIdx;
        }
        return writer.TryWrite(in hdr) && (response.Body is null || writer.TryWriteBytes(response.Body));
    }

    /// <summary>
    /// Reads the rest of a command struct <typeparamref name="T"/> whose first 24 bytes are the header already
    /// read. False when the request is truncated.
    /// </summary>
    private static bool TryReadBody<T>(in VirtioGpuCtrlHdr hdr, DescriptorChainReader reader, out T command) where T : unmanaged
    {
        command = default;
        var bytes = MemoryMarshal.AsBytes(new Span<T>(ref command));
        if (!reader.TryReadBytes(bytes[GpuResponse.HeaderSize..]))
            return false;
        MemoryMarshal.Write(bytes, in hdr);
        return true;
    }

    private static GpuResponse Truncated<T>(DescriptorChainReader reader) where T : unmanaged =>
        GpuResponse.ErrUnspec($"request body is {reader.Remaining} bytes, {typeof(T).Name} needs {System.Runtime.CompilerServices.Unsafe.SizeOf<T>() - GpuResponse.HeaderSize}");

    private static string FormatTrace(string queue, string command, string? fields, in VirtioGpuCtrlHdr hdr,
        GpuResponse response, bool delivered, uint space)
    {
        string fence = (hdr.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_FENCE) != 0
            ? (hdr.Flags & VirtioGpuConstants.VIRTIO_GPU_FLAG_INFO_RING_IDX) != 0
                ? $" fence={hdr.FenceId} ctx={hdr.CtxId} ring={hdr.RingIdx}"
                : $" fence={hdr.FenceId}"
            : "";
        string detail = response.Detail is null ? "" : $" ({response.Detail})";
        string lost = delivered ? "" : $" [not delivered: {space} writable bytes for a {response.EncodedLength}-byte response, used.len=0]";
        return fields is null
            ? $"{queue} {command}{fence} -> {response.Name}{detail}{lost}"
            : $"{queue} {command} {fields}{fence} -> {response.Name}{detail}{lost}";
    }

    private static string FormatName(uint format) =>
        Enum.IsDefined((VirtioGpuFormat)format) ? ((VirtioGpuFormat)format).ToString() : format.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
