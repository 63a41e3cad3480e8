using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniVmm.CrossDomain;

// The cross-domain context type (capset 5), v1 core: the commands 1..7 that sommelier and wayland-proxy-virtwl speak,
// with 28 identifiers per message (crosvm d559e5ca rutabaga_gfx/src/cross_domain/cross_domain_protocol.rs; the
// reference is docs/cross-domain.md). Native-endian C layout, which is little-endian on every host we run on.
// The newer rutabaga and libkrun commands (8 and up) clash with each other and are deliberately not here.

/// <summary>CROSS_DOMAIN_CMD_*: the u8 in <see cref="CrossDomainHeader.Cmd"/>.</summary>
public enum CrossDomainCmd : byte
{
    Init = 1,
    GetImageRequirements = 2,
    Poll = 3,
    Send = 4,
    /// <summary>Host to guest only: written to the channel ring.</summary>
    Receive = 5,
    /// <summary>Host to guest only: data from a host read pipe.</summary>
    Read = 6,
    Write = 7,
}

/// <summary>CROSS_DOMAIN_ID_TYPE_*: what an identifier in SEND/RECEIVE names.</summary>
public enum CrossDomainIdType : uint
{
    /// <summary>A virtio-gpu blob resource id (SEND) or a host blob_id to create one from (RECEIVE).</summary>
    VirtgpuBlob = 1,
    VirtgpuSync = 2,
    /// <summary>Guest reads: the host made a pipe, gave the compositor its write end, and forwards data with READ.</summary>
    ReadPipe = 3,
    /// <summary>Guest writes: the compositor gave a write end; the guest forwards data with WRITE.</summary>
    WritePipe = 4,
}

public static class CrossDomainConstants
{
    /// <summary>RUTABAGA_CAPSET_CROSS_DOMAIN: CTX_CREATE.context_init &amp; 0xff selects it.</summary>
    public const uint CapsetId = 5;

    /// <summary>"supports all commands up to and including CROSS_DOMAIN_CMD_WRITE".</summary>
    public const uint Version = 1;

    public const uint ChannelTypeWayland = 1;

    /// <summary>Per message, since crosvm 03c5118df (it was 4 before; every current proxy uses 28).</summary>
    public const int MaxIdentifiers = 28;

    public const uint RingNone = 0xffffffff;
    public const uint QueryRing = 0;
    public const uint ChannelRing = 1;

    /// <summary>Read-pipe ids are 0x80000001, 0x80000002, ...: the guest predicts them, so both sides count alike.</summary>
    public const uint PipeReadStart = 0x80000000;

    /// <summary>Rings are one page; a RECEIVE's data is what is left after the 352-byte struct.</summary>
    public const int RingSize = 4096;

    /// <summary>CROSS_DOMAIN_MAX_SEND_RECV_SIZE = 4096 - 352.</summary>
    public const int MaxSendReceiveData = RingSize - CrossDomainSendReceive.Size;

    /// <summary>READ carries at most a page minus its 24-byte struct.</summary>
    public const int MaxReadWriteData = RingSize - CrossDomainReadWrite.Size;

    /// <summary>
    /// Open pipes per context, each direction: MiniVmm's own bound on the fds a guest (or compositor) can pin on the
    /// host, not an upstream number. The guest proxy keeps the same bound, so it refuses a pipe the host would.
    /// </summary>
    public const int MaxOpenPipes = 64;

    /// <summary>INIT before the channel ring was added (the host uses the query ring for both).</summary>
    public const int InitLegacySize = 16;
}

/// <summary>struct CrossDomainHeader (8 bytes). The guest calls the second byte fence_ctx_idx; the host ignores it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainHeader
{
    public const int Size = 8;
    public byte Cmd;
    public byte FenceCtxIdx;
    public ushort CmdSize;
    public uint Pad;
}

/// <summary>struct CrossDomainCapabilities (16 bytes): the GET_CAPSET answer for capset 5.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainCapabilities
{
    public uint Version;
    /// <summary>1 &lt;&lt; channel_type for each channel: Wayland gives 0x2.</summary>
    public uint SupportedChannels;
    public uint SupportsDmabuf;
    public uint SupportsExternalGpuMemory;
}

/// <summary>struct CrossDomainInit (20 bytes). A 16-byte legacy form lacks channel_ring_id; longer forms add fields we ignore.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainInit
{
    public const int Size = 20;
    public CrossDomainHeader Hdr;
    public uint QueryRingId;
    public uint ChannelRingId;
    public uint ChannelType;
}

/// <summary>struct CrossDomainGetImageRequirements (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainGetImageRequirements
{
    public const int Size = 24;
    public CrossDomainHeader Hdr;
    public uint Width;
    public uint Height;
    public uint DrmFormat;
    public uint Flags;
}

/// <summary>struct CrossDomainImageRequirements (64 bytes), written at offset 0 of the query ring with no header.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainImageRequirements
{
    public const int Size = 64;
    public PlaneArray Strides;
    public PlaneArray Offsets;
    public ulong Modifier;
    public ulong SizeBytes;
    public uint BlobId;
    public uint MapInfo;
    public int MemoryIdx;
    public int PhysicalDeviceIdx;
}

/// <summary>struct CrossDomainPoll (16 bytes): its fence (ring 1) is held until a channel event is written.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainPoll
{
    public const int Size = 16;
    public CrossDomainHeader Hdr;
    public ulong Pad;
}

/// <summary>struct CrossDomainSendReceive (352 bytes), followed by opaque_data_size bytes of Wayland wire data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainSendReceive
{
    public const int Size = 352;
    public CrossDomainHeader Hdr;
    public uint NumIdentifiers;
    public uint OpaqueDataSize;
    public IdentifierArray Identifiers;
    public IdentifierArray IdentifierTypes;
    public IdentifierArray IdentifierSizes;
}

/// <summary>struct CrossDomainReadWrite (24 bytes), followed by opaque_data_size bytes of pipe data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CrossDomainReadWrite
{
    public const int Size = 24;
    public CrossDomainHeader Hdr;
    public uint Identifier;
    public uint HangUp;
    public uint OpaqueDataSize;
    public uint Pad;
}

/// <summary>u32[CROSS_DOMAIN_MAX_IDENTIFIERS].</summary>
[InlineArray(CrossDomainConstants.MaxIdentifiers)]
public struct IdentifierArray
{
    private uint _element0;
}

/// <summary>u32[4] of the image requirements: one stride or offset per plane.</summary>
[InlineArray(4)]
public struct PlaneArray
{
    private uint _element0;
}
