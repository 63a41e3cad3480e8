using System.Text;

namespace MiniVmm.NineP.Tests;

/// <summary>
/// A temporary share: <c>parent/share</c> holds the files the guest sees, <c>parent/secret.txt</c> lies outside it
/// (the escape tests aim at it). The client has negotiated 9P2000.L and attached fid 0 to the root.
/// </summary>
internal sealed class ShareFixture : IDisposable
{
    public const uint Root = 0;

    public ShareFixture(bool readOnly = false, int replyLimit = NinePServer.MaxMessageSize)
    {
        Parent = Directory.CreateTempSubdirectory("minivmm-9p-").FullName;
        SharePath = Path.Combine(Parent, "share");
        Directory.CreateDirectory(Path.Combine(SharePath, "dir"));
        File.WriteAllText(Path.Combine(SharePath, "hello.txt"), "hello from the host\n");
        File.WriteAllText(Path.Combine(SharePath, "dir", "inner.txt"), "inner");
        File.WriteAllText(Path.Combine(Parent, "secret.txt"), "SECRET");
        Directory_ = HostDirectory.Open(SharePath);
        Server = new NinePServer(Directory_, readOnly);
        Client = new NinePClient(request => Server.Handle(request, replyLimit).ToArray());
        Client.Version(65536).Expect(NinePMessageType.Rversion);
        Client.Attach(Root).Expect(NinePMessageType.Rattach);
    }

    public string Parent { get; }
    public string SharePath { get; }
    public HostDirectory Directory_ { get; }
    public NinePServer Server { get; }
    public NinePClient Client { get; }

    public string HostPath(string relative) => Path.Combine(SharePath, relative);

    /// <summary>Walks <paramref name="newFid"/> to <paramref name="names"/> and opens it.</summary>
    public void OpenAt(uint newFid, uint flags, params string[] names)
    {
        Client.Walk(Root, newFid, names).Expect(NinePMessageType.Rwalk);
        Client.Open(newFid, flags).Expect(NinePMessageType.Rlopen);
    }

    public string ReadAll(uint fid)
    {
        var reply = Client.Read(fid, 0, 4096).Expect(NinePMessageType.Rread);
        return Encoding.UTF8.GetString(reply.Data(4, (int)reply.U32(0)));
    }

    public void Dispose()
    {
        Server.Dispose();
        Directory_.Dispose();
        Directory.Delete(Parent, recursive: true);
    }
}
