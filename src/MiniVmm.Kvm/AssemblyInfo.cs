using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MiniVmm.Kvm.Tests")]
