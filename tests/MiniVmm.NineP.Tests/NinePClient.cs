using System.Buffers.Binary;
using System.Text;
using MiniVmm.NineP;

namespace MiniVmm.NineP.Tests;

/// <summary>A reply: its type and the bytes after the header, or the errno of an Rlerror.</summary>
internal sealed record NinePReply(NinePMessageType Type, ushort Tag, byte[] Body)
{
    public uint Errno => Type == NinePMessageType.Rlerror ? BinaryPrimitives.ReadUInt32LittleEndian(Body) : 0;

    public NinePReply Expect(NinePMessageType type)
    {
        Assert.True(Type == type, $"expected {type}, got {Type}{(Type == NinePMessageType.Rlerror ? $" errno {Errno}" : "")}");
        return this;
    }

    public uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Body.AsSpan(offset));
    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Body.AsSpan(offset));
    public byte[] Data(int offset, int length) => Body.AsSpan(offset, length).ToArray();
}

/// <summary>
/// A 9P2000.L client written from the protocol description for the tests: encodes T-messages field by field as Linux's
/// net/9p/client.c sends them and decodes replies. <see cref="Send"/> goes straight to a server, or through the virtio
/// device in the device tests.
/// </summary>
internal sealed class NinePClient(Func<byte[], byte[]> transport)
{
    private ushort _tag;

    public NinePReply Send(NinePMessageType type, Action<List<byte>> fields)
    {
        var message = new List<byte>();
        fields(message);
        ushort tag = _tag++;
        var bytes = new byte[NinePConstants.HeaderSize + message.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
        bytes[4] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(5), tag);
        message.CopyTo(bytes, NinePConstants.HeaderSize);
        var reply = transport(bytes);
        Assert.True(reply.Length >= NinePConstants.HeaderSize, "no reply");
        Assert.Equal((uint)reply.Length, BinaryPrimitives.ReadUInt32LittleEndian(reply));
        var answer = new NinePReply((NinePMessageType)reply[4], BinaryPrimitives.ReadUInt16LittleEndian(reply.AsSpan(5)), reply[NinePConstants.HeaderSize..]);
        Assert.Equal(tag, answer.Tag);
        return answer;
    }

    public NinePReply Version(uint msize, string version = "9P2000.L") => Send(NinePMessageType.Tversion, m => { U32(m, msize); Str(m, version); });
    public NinePReply Attach(uint fid) => Send(NinePMessageType.Tattach, m => { U32(m, fid); U32(m, NinePConstants.NoFid); Str(m, "root"); Str(m, ""); U32(m, 0); });
    public NinePReply Walk(uint fid, uint newFid, params string[] names) =>
        Send(NinePMessageType.Twalk, m => { U32(m, fid); U32(m, newFid); U16(m, (ushort)names.Length); foreach (var n in names) Str(m, n); });
    public NinePReply Open(uint fid, uint flags) => Send(NinePMessageType.Tlopen, m => { U32(m, fid); U32(m, flags); });
    public NinePReply Create(uint fid, string name, uint flags, uint mode) =>
        Send(NinePMessageType.Tlcreate, m => { U32(m, fid); Str(m, name); U32(m, flags); U32(m, mode); U32(m, 0); });
    public NinePReply Read(uint fid, ulong offset, uint count) => Send(NinePMessageType.Tread, m => { U32(m, fid); U64(m, offset); U32(m, count); });
    public NinePReply Write(uint fid, ulong offset, byte[] data) =>
        Send(NinePMessageType.Twrite, m => { U32(m, fid); U64(m, offset); U32(m, (uint)data.Length); m.AddRange(data); });
    public NinePReply ReadDirectory(uint fid, ulong offset, uint count) => Send(NinePMessageType.Treaddir, m => { U32(m, fid); U64(m, offset); U32(m, count); });
    public NinePReply GetAttributes(uint fid) => Send(NinePMessageType.Tgetattr, m => { U32(m, fid); U64(m, NinePConstants.GetattrBasic); });
    public NinePReply SetAttributes(uint fid, uint valid, uint mode = 0, ulong size = 0, long mtime = 0) => Send(NinePMessageType.Tsetattr, m =>
    {
        U32(m, fid); U32(m, valid); U32(m, mode); U32(m, 0); U32(m, 0); U64(m, size); U64(m, 0); U64(m, 0); U64(m, (ulong)mtime); U64(m, 0);
    });
    public NinePReply Clunk(uint fid) => Send(NinePMessageType.Tclunk, m => U32(m, fid));
    public NinePReply Remove(uint fid) => Send(NinePMessageType.Tremove, m => U32(m, fid));
    public NinePReply MakeDirectory(uint fid, string name, uint mode) => Send(NinePMessageType.Tmkdir, m => { U32(m, fid); Str(m, name); U32(m, mode); U32(m, 0); });
    public NinePReply Symlink(uint fid, string name, string target) => Send(NinePMessageType.Tsymlink, m => { U32(m, fid); Str(m, name); Str(m, target); U32(m, 0); });
    public NinePReply ReadLink(uint fid) => Send(NinePMessageType.Treadlink, m => U32(m, fid));
    public NinePReply Link(uint directoryFid, uint fid, string name) => Send(NinePMessageType.Tlink, m => { U32(m, directoryFid); U32(m, fid); Str(m, name); });
    public NinePReply RenameAt(uint fromFid, string from, uint toFid, string to) =>
        Send(NinePMessageType.Trenameat, m => { U32(m, fromFid); Str(m, from); U32(m, toFid); Str(m, to); });
    public NinePReply UnlinkAt(uint fid, string name, uint flags) => Send(NinePMessageType.Tunlinkat, m => { U32(m, fid); Str(m, name); U32(m, flags); });
    public NinePReply Lock(uint fid) => Send(NinePMessageType.Tlock, m => { U32(m, fid); m.Add(1); U32(m, 0); U64(m, 0); U64(m, 0); U32(m, 42); Str(m, "guest"); });
    public NinePReply GetLock(uint fid) => Send(NinePMessageType.Tgetlock, m => { U32(m, fid); m.Add(1); U64(m, 5); U64(m, 10); U32(m, 42); Str(m, "guest"); });
    public NinePReply FileSystemStatus(uint fid) => Send(NinePMessageType.Tstatfs, m => U32(m, fid));
    public NinePReply Sync(uint fid) => Send(NinePMessageType.Tfsync, m => { U32(m, fid); U32(m, 0); });

    /// <summary>Rreaddir entries: qid[13] offset[8] type[1] name[s].</summary>
    public static List<(string Name, ulong Offset, byte QidType)> Entries(NinePReply reply)
    {
        var entries = new List<(string, ulong, byte)>();
        uint count = reply.U32(0);
        for (int at = 4; at < 4 + count;)
        {
            byte qidType = reply.Body[at];
            ulong offset = reply.U64(at + 13);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(reply.Body.AsSpan(at + 22));
            entries.Add((Encoding.UTF8.GetString(reply.Body, at + 24, length), offset, qidType));
            at += 24 + length;
        }
        return entries;
    }

    public static void U16(List<byte> m, ushort v) { m.Add((byte)v); m.Add((byte)(v >> 8)); }
    public static void U32(List<byte> m, uint v) { for (int i = 0; i < 4; i++) m.Add((byte)(v >> (8 * i))); }
    public static void U64(List<byte> m, ulong v) { for (int i = 0; i < 8; i++) m.Add((byte)(v >> (8 * i))); }
    public static void Str(List<byte> m, string s) { var b = Encoding.UTF8.GetBytes(s); U16(m, (ushort)b.Length); m.AddRange(b); }
}
