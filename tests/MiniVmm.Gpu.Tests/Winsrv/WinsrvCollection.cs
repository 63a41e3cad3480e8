namespace MiniVmm.Gpu.Tests.Winsrv;

/// <summary>
/// The winsrv tests open sockets, epoll fds and Weston processes; run alone (after the parallel tests) so they
/// neither skew the process-wide fd counts other tests check nor start Weston beside the "Weston" collection.
/// </summary>
[CollectionDefinition("Winsrv", DisableParallelization = true)]
public sealed class WinsrvCollection;
