using System.Buffers.Binary;
using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>
/// The host-visible region from the guest: over controlq, CTX_CREATE (context_init 0: a plain context, whose HOST3D
/// blobs are fresh pages; a cross-domain one would want a GET_IMAGE_REQUIREMENTS blob_id), RESOURCE_CREATE_BLOB
/// (HOST3D, MAPPABLE) and RESOURCE_MAP_BLOB; then the blob is read and written through BAR 2 + offset (a KVM slot
/// over the blob's memfd); then RESOURCE_UNMAP_BLOB and the same address read again, now an MMIO exit.
/// Layouts are virtio 1.2 §5.7.6 (ctrl_hdr.ctx_id at byte 16); GpuPayloadTests-style size checks live in the test.
/// BAR 2 must sit below 4 GiB: payloads run on identity page tables that cover only the first 4 GiB.
/// Exit codes: 0 = all passed; <see cref="VirtioPciDriver"/>'s codes, or the Fail* constants here.
/// </summary>
public static class HostVisiblePayloads
{
    public const int FeatureVirgl = 0, FeatureResourceBlob = 3, FeatureContextInit = 4;
    public const uint CmdCtxCreate = 0x0200, CmdResourceCreateBlob = 0x010C, CmdResourceMapBlob = 0x0208, CmdResourceUnmapBlob = 0x0209;
    public const uint RespOkNoData = 0x1100, RespOkMapInfo = 0x1106;
    public const uint ContextInitPlain = 0, BlobMemHost3d = 2, BlobFlagMappable = 1;
    public const int CtxCreateLength = 96, CreateBlobLength = 56, MapBlobLength = 40, UnmapBlobLength = 32, MapInfoLength = 32;
    public const uint ContextId = 1, ResourceId = 1;
    /// <summary>conf1 registers of BAR 2 (the shared-memory BAR, 64-bit: low then high dword).</summary>
    private const int Bar2Low = 0x18, Bar2High = 0x1C;

    public const byte FailBarAbove4G = 30, FailBarUnassigned = 31, FailCtxCreate = 32, FailCreateBlob = 33, FailMapBlob = 34,
        FailHostPattern = 35, FailUnmapBlob = 36, FailAfterUnmap = 37;

    /// <summary>
    /// Passes when the blob of <paramref name="blobSize"/> bytes mapped at <paramref name="offset"/> shows
    /// <paramref name="hostPattern"/> in its first dword (the host wrote it into the memfd), takes
    /// <paramref name="guestPattern"/> there, and after the unmap the address reads <paramref name="afterUnmap"/>.
    /// </summary>
    public static byte[] MapWriteUnmap(ulong offset, uint blobSize, uint hostPattern, uint guestPattern, uint afterUnmap)
    {
        ulong features = (1UL << 32) | (1UL << FeatureVirgl) | (1UL << FeatureResourceBlob) | (1UL << FeatureContextInit);
        return VirtioPciDriver.Build(new VirtioDriverSpec(GpuPayloads.GpuDeviceType, features, QueueSize: 4, "HOSTMEM OK"), p =>
        {
            var a = p.Asm;
            PciConf1.Read(a, Bar2High);
            a.test(eax, eax);
            p.Require(a.jz, FailBarAbove4G);
            PciConf1.Read(a, Bar2Low);
            a.and(eax, unchecked((int)0xFFFF_FFF0));
            p.Require(a.jnz, FailBarUnassigned);
            a.mov(r10d, eax); // zero-extends: r10 = BAR 2; nothing below touches it
            a.add(r10, (int)offset);

            ExchangeExpecting(p, 0, Command(CtxCreateLength, CmdCtxCreate, [0, ContextInitPlain]), RespOkNoData, FailCtxCreate);
            ExchangeExpecting(p, 1, Command(CreateBlobLength, CmdResourceCreateBlob,
                [ResourceId, BlobMemHost3d, BlobFlagMappable, 0, 0, 0, blobSize, 0]), RespOkNoData, FailCreateBlob);
            ExchangeExpecting(p, 2, Command(MapBlobLength, CmdResourceMapBlob, [ResourceId, 0, (uint)offset, (uint)(offset >> 32)]),
                RespOkMapInfo, FailMapBlob, MapInfoLength);

            a.cmp(__dword_ptr[r10], unchecked((int)hostPattern));
            p.Require(a.je, FailHostPattern);
            a.mov(__dword_ptr[r10], unchecked((int)guestPattern));

            ExchangeExpecting(p, 3, Command(UnmapBlobLength, CmdResourceUnmapBlob, [ResourceId, 0]), RespOkNoData, FailUnmapBlob);
            a.cmp(__dword_ptr[r10], unchecked((int)afterUnmap));
            p.Require(a.je, FailAfterUnmap);
        });
    }

    /// <summary>A ctrl_hdr of <paramref name="type"/> for context <see cref="ContextId"/>, then <paramref name="body"/>, zero-padded.</summary>
    private static byte[] Command(int length, uint type, uint[] body)
    {
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, type);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), ContextId);
        for (int i = 0; i < body.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)GpuPayloads.CtrlHdrLength + (4 * i)), body[i]);
        return bytes;
    }

    private static void ExchangeExpecting(PayloadBuilder p, int sequence, byte[] request, uint responseType, byte code,
        uint responseLength = GpuPayloads.CtrlHdrLength)
    {
        VirtioPciDriver.Exchange(p, sequence, request, responseLength);
        p.Asm.cmp(__dword_ptr[VirtioPciDriver.Response], (int)responseType);
        p.Require(p.Asm.je, code);
    }
}
