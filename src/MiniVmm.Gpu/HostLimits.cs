namespace MiniVmm.Gpu;

/// <summary>
/// Fixed limits on what a guest may make the host show or hold, beside the configurable budget
/// (<see cref="GpuOptions.MaxHostMemoryBytes"/>). Every guest request is checked against these before anything is
/// allocated, so a value past them gets an ERR_* response instead of reaching a path that throws.
/// </summary>
public static class HostLimits
{
    /// <summary>
    /// Largest scanout width or height SET_SCANOUT accepts: what the host window can show (two XRGB8888 buffers of
    /// this size fit wl_shm_pool's int32 size; MiniVmm.Wayland.ScanoutWindow.MaxDimension).
    /// </summary>
    public const uint MaxScanoutDimension = 8192;
}
