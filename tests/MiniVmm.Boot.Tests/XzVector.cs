namespace MiniVmm.Boot.Tests;

/// <summary>
/// A fixed xz stream made once with <c>xz --format=xz --check=crc32 --x86 --lzma2=preset=9,pb=0</c>
/// (the kernel build's filter chain) from a 900-byte ELF: one PT_LOAD of 772 bytes of CALL/JMP-rich
/// code at 16 MiB (memsz 13060, entry 16 MiB). It proves the x86 BCJ decoder without the xz tool at
/// test time: the block CRC-32 and the SHA-256 below only match if every converted operand is restored.
/// The header also claims a 64 MiB dictionary, which the decoder must not allocate for 900 bytes.
/// </summary>
internal static class XzVector
{
    public const string ElfSha256 = "31284054cf13dcbaac84236fbac196bc7ed0a59e46ab65706f1e6a43cb5689ed";
    public const int ElfLength = 900;
    public const ulong SegmentFileSize = 772;
    public const ulong SegmentMemorySize = 13060;

    public static byte[] Compressed => Convert.FromHexString(Hex);

    private const string Hex =
        "fd377a585a0000016922de360201040021011c00876edae5e00383029803003f91d06b8f4b19fb6dc55ad6e3855278526ec2" +
        "3e35df10acab33e254aa3d4b20af12a97a2bb6720d14c20486f3e56b477cb4ce8627b5ff96940e4bee83ffe21be84fac1e9b" +
        "6a6415457a8e4a09446e482559a50fda72a32ef9e109f08a2f475bfd37887f203ef572bae35064aed5cb3736464da74e639f" +
        "27e86adfd82bf7c654eb774ab843379ae67e715bf489dc470c844aaed5156df0f0442618d07f9219be820aae30197fd9a3f2" +
        "13093c8afb220c9e1089e0998374533c7be55882a056491f83e7c60d95dc6402d49d14a7b2d2a5f2a965c2ccec29ef3ee4b9" +
        "00536bb979451850dd7ed37d81bdc512ef93e16d0ea69d2bf634daa7f4ef87c487ffda670597876ac1efac455ce2bfa2d1ec" +
        "10af598d0d051bfcf491fcad838c8a5b6fffe71107d881dec12388c93fd5de032f0b133b2e822e36ad17714b4a665daf971f" +
        "0d698909ca1eff7f368d7bf1bedfa5fe568fdbd136e46e463a91630f1a3ae5cc7987afc0c9714e28e9f57a0cce58c96f9224" +
        "2e7ab8a58376f1b469fffe040a0d92a6aa9c496550e7c62db0c030e2ba2dac22f64f1a79e1e6c79c2f3d6558f66d52b4faf9" +
        "0d362c1367fd2a54eba7bf8dfc1d399280133ebe2ea2d674b96ef8b81cf5ec4ee8b3354a1aab09232b3c97aef4bfb2968b2d" +
        "f4c6bb80debe166204408df8737b55b4fdf0fbdc8c8b27bdaa50c0ccb6bccf2a7aa06b30e3c557557e81bce11ffb0141d7fe" +
        "47d92ca75829e964c152e30fffdc1d0b7d6c21568603b4cb7d459196ef0c8f86968509375f93e2bfa0813e5e167f7c17494e" +
        "19c20641f90e97b875025c83d7eb24b4c55c503debf9ca60835f1c860eb3b31e6c769309b02b55dc1e970edce14505b42490" +
        "513b3ebb629e4c2b4eb7026b4796eb0d31dac1beb92b7c323e8df2d063cc4e6893edaee1163fd2044094a9bfc000d1dfd07c" +
        "0001b00584070000317f0b763e300d8b020000000001595a";
}
