using System.Runtime.CompilerServices;

namespace MiniVmm.Boot;

// Fixed byte arrays for the opaque parts of boot_params and the MP table. InlineArray keeps the
// structs blittable without unsafe fixed buffers; each size appears where the C layout needs it.

[InlineArray(2)] public struct Bytes2 { private byte _element0; }
[InlineArray(4)] public struct Bytes4 { private byte _element0; }
[InlineArray(6)] public struct Bytes6 { private byte _element0; }
[InlineArray(8)] public struct Bytes8 { private byte _element0; }
[InlineArray(12)] public struct Bytes12 { private byte _element0; }
[InlineArray(16)] public struct Bytes16 { private byte _element0; }
[InlineArray(20)] public struct Bytes20 { private byte _element0; }
[InlineArray(32)] public struct Bytes32 { private byte _element0; }
[InlineArray(36)] public struct Bytes36 { private byte _element0; }
[InlineArray(48)] public struct Bytes48 { private byte _element0; }
[InlineArray(64)] public struct Bytes64 { private byte _element0; }
[InlineArray(112)] public struct Bytes112 { private byte _element0; }
[InlineArray(128)] public struct Bytes128 { private byte _element0; }
[InlineArray(276)] public struct Bytes276 { private byte _element0; }
[InlineArray(492)] public struct Bytes492 { private byte _element0; }
