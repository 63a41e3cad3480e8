using System.Runtime.CompilerServices;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>Sizes and offsets from the reference (checked with gcc against hand copies of crosvm's structs).</summary>
public sealed class CrossDomainLayoutTests
{
    private static void Size<T>(int expected) where T : unmanaged => Assert.Equal(expected, Unsafe.SizeOf<T>());

    [Fact] public void Header() => Size<CrossDomainHeader>(CrossDomainHeader.Size);
    [Fact] public void HeaderIs8() => Assert.Equal(8, CrossDomainHeader.Size);
    [Fact] public void Capabilities() => Size<CrossDomainCapabilities>(16);
    [Fact] public void Init() => Size<CrossDomainInit>(20);
    [Fact] public void GetImageRequirements() => Size<CrossDomainGetImageRequirements>(24);
    [Fact] public void ImageRequirements() => Size<CrossDomainImageRequirements>(64);
    [Fact] public void Poll() => Size<CrossDomainPoll>(16);
    [Fact] public void SendReceive() => Size<CrossDomainSendReceive>(352);
    [Fact] public void ReadWrite() => Size<CrossDomainReadWrite>(24);
    [Fact] public void MaxSendReceiveDataIs3744() => Assert.Equal(3744, CrossDomainConstants.MaxSendReceiveData);

    [Fact]
    public void SendReceiveArraysSitWhereTheGuestExpectsThem()
    {
        var message = new CrossDomainSendReceive();
        message.Identifiers[0] = 0x11111111;
        message.IdentifierTypes[0] = 0x22222222;
        message.IdentifierSizes[27] = 0x33333333;
        var bytes = new byte[CrossDomainSendReceive.Size];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in message);
        Assert.Equal(0x11111111u, BitConverter.ToUInt32(bytes, 16));
        Assert.Equal(0x22222222u, BitConverter.ToUInt32(bytes, 128));
        Assert.Equal(0x33333333u, BitConverter.ToUInt32(bytes, 240 + 27 * 4));
    }

    [Fact]
    public void ImageRequirementOffsets()
    {
        var requirements = new CrossDomainImageRequirements { Modifier = 0xAAAAAAAAAAAAAAAA, SizeBytes = 0xBB, BlobId = 0xCC, PhysicalDeviceIdx = -1 };
        requirements.Offsets[0] = 0xDD;
        var bytes = new byte[CrossDomainImageRequirements.Size];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in requirements);
        Assert.Equal(0xDDu, BitConverter.ToUInt32(bytes, 16));
        Assert.Equal(0xAAAAAAAAAAAAAAAAul, BitConverter.ToUInt64(bytes, 32));
        Assert.Equal(0xBBul, BitConverter.ToUInt64(bytes, 40));
        Assert.Equal(0xCCu, BitConverter.ToUInt32(bytes, 48));
        Assert.Equal(-1, BitConverter.ToInt32(bytes, 60));
    }
}
