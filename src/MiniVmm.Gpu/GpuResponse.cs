using System.Runtime.InteropServices;
using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu;

/// <summary>
/// What a command produced: a response type, the bytes that follow the control header (display info,
/// EDID), and for errors a short reason for the trace. Errors are responses too (crosvm's
/// <c>Result&lt;GpuResponse, GpuResponse&gt;</c>): a backend method simply returns <see cref="Err"/>.
/// </summary>
public readonly record struct GpuResponse(VirtioGpuCtrlType Type, byte[]? Body = null, string? Detail = null)
{
    public const int HeaderSize = 24;

    public bool IsError => Type >= VirtioGpuCtrlType.RESP_ERR_UNSPEC;

    /// <summary>Bytes the device writes: header plus body.</summary>
    public int EncodedLength => HeaderSize + (Body?.Length ?? 0);

    public static GpuResponse OkNoData => new(VirtioGpuCtrlType.RESP_OK_NODATA);

    public static GpuResponse Err(VirtioGpuCtrlType type, string detail) => new(type, null, detail);

    public static GpuResponse ErrUnspec(string detail) => Err(VirtioGpuCtrlType.RESP_ERR_UNSPEC, detail);

    public static GpuResponse ErrOutOfMemory(string detail) => Err(VirtioGpuCtrlType.RESP_ERR_OUT_OF_MEMORY, detail);

    public static GpuResponse ErrInvalidScanoutId(uint scanoutId) =>
        Err(VirtioGpuCtrlType.RESP_ERR_INVALID_SCANOUT_ID, $"no scanout {scanoutId}");

    public static GpuResponse ErrInvalidResourceId(uint resourceId) =>
        Err(VirtioGpuCtrlType.RESP_ERR_INVALID_RESOURCE_ID, $"no resource {resourceId}");

    public static GpuResponse ErrInvalidParameter(string detail) => Err(VirtioGpuCtrlType.RESP_ERR_INVALID_PARAMETER, detail);

    /// <summary>A success response whose wire struct is <typeparamref name="T"/> (header included; it is overwritten).</summary>
    public static GpuResponse WithStruct<T>(VirtioGpuCtrlType type, in T response) where T : unmanaged =>
        new(type, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in response))[HeaderSize..].ToArray());

    /// <summary>Name for traces: the spec name without RESP_.</summary>
    public string Name => TypeName(Type);

    public static string TypeName(VirtioGpuCtrlType type)
    {
        string name = type.ToString();
        return name.StartsWith("RESP_", StringComparison.Ordinal) ? name[5..]
            : name.StartsWith("CMD_", StringComparison.Ordinal) ? name[4..]
            : $"0x{(uint)type:x}";
    }
}
