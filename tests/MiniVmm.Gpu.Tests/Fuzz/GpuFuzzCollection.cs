namespace MiniVmm.Gpu.Tests.Fuzz;

/// <summary>The fuzz runs count the process's open fds, so they run alone, after the parallel tests.</summary>
[CollectionDefinition("GpuFuzz", DisableParallelization = true)]
public sealed class GpuFuzzCollection;
