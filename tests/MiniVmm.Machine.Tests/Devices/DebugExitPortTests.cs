using MiniVmm.Machine.Devices;

namespace MiniVmm.Machine.Tests.Devices;

public sealed class DebugExitPortTests
{
    private readonly FakeMachineControl _control = new();

    [Theory]
    [InlineData(new byte[] { 0 }, 0, 0UL)]
    [InlineData(new byte[] { 1 }, 1, 1UL)]
    [InlineData(new byte[] { 42 }, 42, 42UL)]
    [InlineData(new byte[] { 0xFF }, 255, 255UL)]
    [InlineData(new byte[] { 0x03, 0x01 }, 3, 0x103UL)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x80 }, 0, 0x8000_0000UL)]
    public void WrittenValueIsTheExitCode(byte[] data, int code, ulong value)
    {
        new DebugExitPort(_control).Write(0, data);
        var request = Assert.Single(_control.Requests);
        Assert.Equal(code, request.ExitCode);
        Assert.Equal($"guest wrote {value} to the debug-exit port", request.Description);
    }

    [Fact]
    public void ReadsAreZeroAndOffsetWritesIgnored()
    {
        var port = new DebugExitPort(_control);
        Span<byte> data = stackalloc byte[4];
        data.Fill(0xAA);
        port.Read(0, data);
        Assert.Equal(0u, BitConverter.ToUInt32(data));
        port.Write(1, [7]);
        Assert.Empty(_control.Requests);
    }

    [Fact]
    public void PostCodePortCountsWritesAndRemembersTheLast()
    {
        var port = new PostCodePort();
        Assert.Equal(-1, port.LastCode);
        port.WriteByte(0, 0x12);
        port.WriteByte(0, 0x34);
        Assert.Equal(2, port.WriteCount);
        Assert.Equal(0x34, port.LastCode);
        Assert.Equal(0xFF, port.ReadByte(0));
    }
}
