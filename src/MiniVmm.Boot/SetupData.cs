using System.Buffers.Binary;
using System.Security.Cryptography;
using MiniVmm.Memory;

namespace MiniVmm.Boot;

/// <summary>
/// The boot protocol's setup_data list (boot.rst, protocol 2.09+): nodes of
/// { u64 next; u32 type; u32 len; u8 data[len] } chained from hdr.setup_data. MiniVmm writes one,
/// SETUP_RNG_SEED, as QEMU and Firecracker do: without it a guest on a host that hides RDRAND
/// (the software-KVM hosts do) waits a minute or more for its CRNG, and every getrandom() caller
/// with it (a .NET program's start-up included). The kernel credits the seed when it trusts the
/// boot loader (CONFIG_RANDOM_TRUST_BOOTLOADER or random.trust_bootloader=on) and wipes it after use.
/// </summary>
public static class SetupData
{
    /// <summary>SETUP_RNG_SEED in arch/x86/include/uapi/asm/bootparam.h.</summary>
    public const uint TypeRngSeed = 9;

    /// <summary>256 bits: what the kernel needs to call its CRNG initialised.</summary>
    public const int RngSeedLength = 32;

    /// <summary>next (8) + type (4) + len (4).</summary>
    public const int HeaderLength = 16;

    /// <summary>Writes a single-node list holding fresh host randomness at <paramref name="address"/>.</summary>
    public static void WriteRngSeed(GuestMemory memory, ulong address)
    {
        Span<byte> node = stackalloc byte[HeaderLength + RngSeedLength];
        BinaryPrimitives.WriteUInt64LittleEndian(node, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(node[8..], TypeRngSeed);
        BinaryPrimitives.WriteUInt32LittleEndian(node[12..], RngSeedLength);
        RandomNumberGenerator.Fill(node[HeaderLength..]);
        memory.Write(new GuestAddress(address), node);
    }
}
