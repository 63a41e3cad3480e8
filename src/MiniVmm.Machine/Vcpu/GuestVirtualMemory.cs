using MiniVmm.Kvm;
using MiniVmm.Memory;

namespace MiniVmm.Machine.Vcpu;

/// <summary>
/// Reads and writes guest-virtual addresses by translating each page through the vCPU's current page
/// tables (KVM_TRANSLATE) and then going through <see cref="GuestMemory"/>. Used to fetch the
/// instruction at RIP and the memory operands of instructions the VMM completes itself.
/// </summary>
public sealed class GuestVirtualMemory(KvmVcpu vcpu, GuestMemory memory)
{
    private const ulong PageSize = 4096;

    /// <summary>Translates one virtual address; false when the page is not mapped.</summary>
    public bool TryTranslate(ulong virtualAddress, out GuestAddress physical, out bool writable)
    {
        var translation = vcpu.Translate(virtualAddress);
        physical = new GuestAddress(translation.PhysicalAddress);
        writable = translation.Writeable != 0;
        return translation.Valid != 0;
    }

    /// <summary>Reads as many bytes as are mapped from <paramref name="virtualAddress"/>; returns the count read.</summary>
    public int Read(ulong virtualAddress, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong address = virtualAddress + (ulong)done;
            if (!TryTranslate(address, out var physical, out _))
                break;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), PageSize - (address % PageSize));
            if (memory.TryRead(physical, destination.Slice(done, chunk)) != GuestMemoryError.None)
                break;
            done += chunk;
        }
        return done;
    }

    /// <summary>Writes all bytes or none (each page is checked before any byte is written).</summary>
    public bool TryWrite(ulong virtualAddress, ReadOnlySpan<byte> source)
    {
        var pages = new List<(GuestAddress Physical, int Offset, int Length)>();
        for (int done = 0; done < source.Length;)
        {
            ulong address = virtualAddress + (ulong)done;
            if (!TryTranslate(address, out var physical, out bool writable) || !writable)
                return false;
            int chunk = (int)Math.Min((ulong)(source.Length - done), PageSize - (address % PageSize));
            if (memory.TryGetSpan(physical, (ulong)chunk, out _) != GuestMemoryError.None)
                return false;
            pages.Add((physical, done, chunk));
            done += chunk;
        }
        foreach (var (physical, offset, length) in pages)
            memory.Write(physical, source.Slice(offset, length));
        return true;
    }
}
