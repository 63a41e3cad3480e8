namespace MiniVmm.CrossDomain;

/// <summary>
/// The host's answer to GET_IMAGE_REQUIREMENTS (struct CrossDomainImageRequirements, plane 0): the blob_id and size a
/// HOST3D blob for that image must be created with (crosvm refuses any other pair), and the first plane's layout.
/// </summary>
public sealed record ImageRequirements(uint BlobId, ulong Size, uint Stride, uint Offset);

/// <summary>
/// A message the host wrote on the channel ring when a POLL fence completed. <see cref="IsHangUp"/>: the empty
/// RECEIVE the host sends when the compositor closed the connection. A READ has one identifier, its pipe, and
/// <see cref="PipeHangUp"/> when the compositor closed that pipe.
/// </summary>
public sealed record CrossDomainReceived(byte Command, byte[] Data, IReadOnlyList<CrossDomainIdentifier> Identifiers)
{
    public bool IsHangUp => Command == (byte)CrossDomainCmd.Receive && Data.Length == 0 && Identifiers.Count == 0;

    public bool PipeHangUp { get; init; }
}
