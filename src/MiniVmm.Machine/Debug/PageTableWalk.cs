using MiniVmm.Kvm;
using MiniVmm.Memory;

namespace MiniVmm.Machine.Debug;

/// <summary>The control-register state that decides how a vCPU translates virtual addresses.</summary>
public readonly record struct PagingState(ulong Cr0, ulong Cr3, ulong Cr4, ulong Efer)
{
    public static PagingState Of(in KvmSregs sregs) => new(sregs.Cr0, sregs.Cr3, sregs.Cr4, sregs.Efer);
}

/// <summary>
/// Translates a guest-virtual address by reading the guest's page tables from guest memory, as the MMU
/// would: 4-level (or 5-level with CR4.LA57) long-mode paging with 1 GiB and 2 MiB pages, or no paging.
/// Done in the VMM rather than with KVM_TRANSLATE so that it works the same on every host and while the
/// vCPU is parked, and so that tests can check it without KVM. 32-bit and PAE paging are not walked
/// (Linux guests run in long mode by the time anyone debugs them).
/// </summary>
public static class PageTableWalk
{
    private const ulong Present = 1 << 0, Writable = 1 << 1, LargePage = 1 << 7;
    private const ulong Cr0Paging = 1UL << 31, Cr4La57 = 1 << 12, EferLongModeActive = 1 << 10;
    /// <summary>Bits 12..51 of an entry: the next table's (or the page's) physical address.</summary>
    private const ulong AddressMask = 0x000F_FFFF_FFFF_F000;

    public static bool TryTranslate(GuestMemory memory, PagingState paging, ulong virtualAddress, out GuestAddress physical) =>
        TryTranslate(memory, paging, virtualAddress, out physical, out _);

    /// <summary>False when the address is not mapped (or the tables lie outside guest RAM, or the paging mode is not walked).</summary>
    public static bool TryTranslate(GuestMemory memory, PagingState paging, ulong virtualAddress, out GuestAddress physical, out bool writable)
    {
        physical = default;
        writable = true;
        if ((paging.Cr0 & Cr0Paging) == 0)
        {
            physical = new GuestAddress(virtualAddress);
            return true;
        }
        if ((paging.Efer & EferLongModeActive) == 0)
            return false;
        int levels = (paging.Cr4 & Cr4La57) != 0 ? 5 : 4;
        ulong table = paging.Cr3 & AddressMask;
        for (int level = levels; level >= 1; level--)
        {
            int shift = 12 + (9 * (level - 1));
            ulong index = (virtualAddress >> shift) & 0x1FF;
            if (memory.TryRead(new GuestAddress(table + (index * 8)), out ulong entry) != GuestMemoryError.None || (entry & Present) == 0)
                return false;
            writable &= (entry & Writable) != 0;
            // A large page ends the walk at the PDPT (1 GiB) or the page directory (2 MiB).
            if (level is 2 or 3 && (entry & LargePage) != 0)
            {
                ulong pageMask = (1UL << shift) - 1;
                physical = new GuestAddress(((entry & AddressMask) & ~pageMask) | (virtualAddress & pageMask));
                return true;
            }
            table = entry & AddressMask;
        }
        physical = new GuestAddress(table | (virtualAddress & 0xFFF));
        return true;
    }
}
