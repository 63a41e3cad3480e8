using MiniVmm.Gpu.Protocol;

namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>
/// One generated request: the bytes a guest driver would put in the chain, how they are laid out, and what the
/// test knows for certain about the answer (only where the shadow model makes it certain).
/// </summary>
internal sealed record FuzzCommand(string Text, byte[] Request, byte[]? Extra = null, int ResponseSize = 24, Layout Layout = Layout.Linux)
{
    /// <summary>Cursor queue instead of control queue.</summary>
    public bool OnCursorQueue { get; init; }

    /// <summary>The response buffer fits every answer this command can get, so the device must deliver one.</summary>
    public bool ResponseFits { get; init; } = true;

    /// <summary>The one correct answer, when the shadow model knows it.</summary>
    public VirtioGpuCtrlType? Expected { get; init; }

    /// <summary>What the device reads: the request and the extra descriptor gathered (a truncated request borrows from the extra).</summary>
    public byte[] Gathered => Extra is null ? Request : [.. Request, .. Extra];

    public VirtioGpuCtrlHdr Header => Gathered.Length >= 24 ? System.Runtime.InteropServices.MemoryMarshal.Read<VirtioGpuCtrlHdr>(Gathered) : default;

    /// <summary>The u32 the device reads at <paramref name="offset"/> (24: resource_id of CREATE_2D, UNREF, CREATE_BLOB; 28: context_init, blob_mem).</summary>
    public uint WordAt(int offset) => Gathered.Length >= offset + 4 ? BitConverter.ToUInt32(Gathered, offset) : 0;

    public override string ToString() => Text;
}
