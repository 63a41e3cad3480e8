using System.Globalization;
using MiniVmm.Sys;

namespace MiniVmm.Wayland.Tests.Wire;

/// <summary>Each argument type against hand-computed wire bytes, both directions.</summary>
public sealed class WireFormatTests
{
    public static TheoryData<WireArgType, string?, string> Vectors => new()
    {
        { WireArgType.Int, "5", "05000000" },
        { WireArgType.Int, "-1", "ffffffff" },
        { WireArgType.Int, "-2147483648", "00000080" },
        { WireArgType.UInt, "3735928559", "efbeadde" },
        { WireArgType.Fixed, "1.5", "80010000" },
        { WireArgType.Fixed, "-1", "00ffffff" },
        { WireArgType.Fixed, "0.00390625", "01000000" },
        { WireArgType.String, "abc", "04000000 61626300" },
        { WireArgType.String, "abcd", "05000000 61626364 00000000" },
        { WireArgType.String, "", "01000000 00000000" },
        { WireArgType.String, "é", "03000000 c3a90000" },
        { WireArgType.String, null, "00000000" },
        { WireArgType.Object, "7", "07000000" },
        { WireArgType.Object, null, "00000000" },
        { WireArgType.NewId, "4278190080", "000000ff" },
        { WireArgType.Array, "010203", "03000000 01020300" },
        { WireArgType.Array, "01020304", "04000000 01020304" },
        { WireArgType.Array, "", "00000000" },
        { WireArgType.Fd, "fd", "" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Encodes(WireArgType type, string? value, string hex)
    {
        using var writer = new WireWriter();
        using var fd = new Fd(-1, ownsHandle: false);
        var start = writer.BeginMessage(1, 0);
        switch (type)
        {
            case WireArgType.Int: writer.WriteInt(int.Parse(value!, CultureInfo.InvariantCulture)); break;
            case WireArgType.UInt: writer.WriteUInt(uint.Parse(value!, CultureInfo.InvariantCulture)); break;
            case WireArgType.Fixed: writer.WriteFixed(WlFixed.FromDouble(double.Parse(value!, CultureInfo.InvariantCulture))); break;
            case WireArgType.String: writer.WriteString(value); break;
            case WireArgType.Object: writer.WriteObject(value is null ? 0 : uint.Parse(value, CultureInfo.InvariantCulture)); break;
            case WireArgType.NewId: writer.WriteNewId(uint.Parse(value!, CultureInfo.InvariantCulture)); break;
            case WireArgType.Array: writer.WriteArray(Convert.FromHexString(value!)); break;
            case WireArgType.Fd: writer.WriteFd(fd); break;
        }
        writer.EndMessage(start);

        Assert.Equal(hex, Hex.Format(writer.Written[WireMessage.HeaderSize..]));
        Assert.Equal(type == WireArgType.Fd ? 1 : 0, writer.FdCount);
        writer.Clear();
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes(WireArgType type, string? value, string hex)
    {
        using var fds = new FdQueue();
        fds.TryEnqueue(new Fd(-1));
        var reader = new WireReader(Hex.Parse(hex), fds);
        string? decoded;
        switch (type)
        {
            case WireArgType.Int:
                Assert.True(reader.TryReadInt(out var i));
                decoded = i.ToString(CultureInfo.InvariantCulture);
                break;
            case WireArgType.UInt:
                Assert.True(reader.TryReadUInt(out var u));
                decoded = u.ToString(CultureInfo.InvariantCulture);
                break;
            case WireArgType.Fixed:
                Assert.True(reader.TryReadFixed(out var f));
                decoded = f.ToString();
                break;
            case WireArgType.String:
                Assert.True(reader.TryReadString(nullable: true, out decoded));
                break;
            case WireArgType.Object:
                Assert.True(reader.TryReadObject(nullable: true, out var o));
                decoded = o == 0 ? null : o.ToString(CultureInfo.InvariantCulture);
                break;
            case WireArgType.NewId:
                Assert.True(reader.TryReadNewId(out var n));
                decoded = n.ToString(CultureInfo.InvariantCulture);
                break;
            case WireArgType.Array:
                Assert.True(reader.TryReadArray(out var a));
                decoded = Convert.ToHexStringLower(a);
                break;
            default:
                Assert.True(reader.TryTakeFd(out var fd));
                decoded = "fd";
                break;
        }
        Assert.True(reader.AtEnd);
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void HeaderCarriesObjectIdAndSizeOverOpcode()
    {
        using var writer = new WireWriter();
        Protocol.WlSurface.Attach(writer, self: 3, buffer: 7, x: 1, y: -1);

        Assert.Equal("03000000 01001400 07000000 01000000 ffffffff", Hex.Format(writer.Written));
        Assert.True(WireMessage.TryParse(writer.Written, out var message, out var error));
        Assert.Equal((3u, (ushort)1, 20, WireError.None), (message.ObjectId, message.Opcode, message.Size, error));
    }

    [Fact]
    public void GenericNewIdTravelsAsInterfaceVersionAndId()
    {
        using var writer = new WireWriter();
        Protocol.WlRegistry.Bind(writer, self: 2, name: 1, interfaceName: "wl_compositor", version: 4, id: 5);

        Assert.Equal(
            "02000000 00002800 01000000 0e000000 776c5f63 6f6d706f 7369746f 72000000 04000000 05000000",
            Hex.Format(writer.Written));
    }

    [Fact]
    public void OversizedMessageIsRejectedAndDropped()
    {
        using var writer = new WireWriter();
        var start = writer.BeginMessage(1, 0);
        Assert.Throws<ArgumentException>(() =>
        {
            writer.WriteArray(new byte[WireMessage.MaxSize - 8]);
            writer.EndMessage(start);
        });
        Assert.Equal(0, writer.Written.Length);
    }
}
