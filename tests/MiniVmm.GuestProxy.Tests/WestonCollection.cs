namespace MiniVmm.GuestProxy.Tests;

/// <summary>Each test starts its own Weston; running them one at a time keeps two shared cores from timing out.</summary>
[CollectionDefinition("Weston", DisableParallelization = true)]
public sealed class WestonCollection;
