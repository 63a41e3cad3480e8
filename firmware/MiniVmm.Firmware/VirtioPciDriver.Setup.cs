using static Iced.Intel.AssemblerRegisters;

namespace MiniVmm.Firmware;

/// <summary>The set-up steps, in the order a driver must take them (virtio 1.2 §3.1.1).</summary>
public static partial class VirtioPciDriver
{
    /// <summary>Bus 0, devices 0-31, function 0: the dword at register 0 is device id : vendor id. Leaves r12d = conf1 base.</summary>
    private static void FindDevice(PayloadBuilder p, uint expectedIds)
    {
        var a = p.Asm;
        var scan = a.CreateLabel();
        var found = a.CreateLabel();
        a.xor(esi, esi);
        a.Label(ref scan);
        a.mov(eax, esi);
        a.shl(eax, 11);
        a.or(eax, unchecked((int)0x8000_0000));
        a.mov(r12d, eax);
        PciConf1.Read(a, 0);
        a.cmp(eax, unchecked((int)expectedIds));
        a.je(found);
        a.inc(esi);
        a.cmp(esi, 32);
        a.jb(scan);
        p.Fail(FailNoDevice);
        a.Label(ref found);
    }

    /// <summary>
    /// From the pointer at 0x34: MSI-X (id 0x11), and virtio vendor caps (id 9) of cfg_type 1-4, whose BAR offsets go
    /// to <see cref="CapOffsets"/>. All are assumed to be in BAR 0, which is where MiniVmm's transport puts them.
    /// </summary>
    private static void WalkCapabilities(PayloadBuilder p)
    {
        var a = p.Asm;
        var walk = a.CreateLabel();
        var notMsix = a.CreateLabel();
        var next = a.CreateLabel();
        var walked = a.CreateLabel();
        PciConf1.Read(a, 0x04);
        a.bt(eax, 16 + 4); // status (upper half) bit 4: capability list present
        p.Require(a.jc, FailNoCapList);
        PciConf1.Read(a, 0x34);
        a.and(eax, 0xFC);
        a.mov(ebx, eax);

        a.Label(ref walk);
        a.test(ebx, ebx);
        a.jz(walked);
        PciConf1.ReadAt(a, 0);
        a.mov(ecx, eax);
        a.cmp(al, 0x11);
        a.jne(notMsix);
        a.mov(__dword_ptr[MsixCapability], ebx);
        a.jmp(next);
        a.Label(ref notMsix);
        a.cmp(al, 0x09);
        a.jne(next);
        a.shr(eax, 24); // cfg_type
        a.lea(edi, __[rax - CommonCfg]);
        a.cmp(edi, DeviceCfg - CommonCfg);
        a.ja(next);     // PCI-config access (5) and shared memory (8) are not used here
        a.mov(edi, eax);
        a.bts(__dword_ptr[Found], edi);
        PciConf1.ReadAt(a, 8); // offset within the BAR
        a.mov(__dword_ptr[rdi * 4 + (long)CapOffsets], eax);
        a.cmp(edi, NotifyCfg);
        a.jne(next);
        PciConf1.ReadAt(a, 16);
        a.mov(__dword_ptr[NotifyMultiplier], eax);
        a.Label(ref next);
        a.mov(eax, ecx);
        a.shr(eax, 8);
        a.and(eax, 0xFC);
        a.mov(ebx, eax);
        a.jmp(walk);

        a.Label(ref walked);
        a.cmp(__dword_ptr[Found], (1 << CommonCfg) | (1 << NotifyCfg) | (1 << IsrCfg) | (1 << DeviceCfg));
        p.Require(a.je, FailMissingCaps);
        a.cmp(__dword_ptr[MsixCapability], 0);
        p.Require(a.jne, FailMissingCaps);
    }

    /// <summary>Write all ones, read the size mask, restore; then memory decoding + bus master. Leaves r13 = BAR 0, r14 = common config.</summary>
    private static void SizeAndEnableBar0(PayloadBuilder p)
    {
        var a = p.Asm;
        PciConf1.Read(a, 0x10);
        a.mov(r13d, eax);
        PciConf1.Write(a, 0x10, -1);
        PciConf1.Read(a, 0x10);
        a.and(eax, unchecked((int)0xFFFF_FFF0));
        a.neg(eax); // ~(mask) + 1 = the size
        a.mov(edi, eax);
        PciConf1.Write(a, 0x10, r13d);
        a.and(r13d, unchecked((int)0xFFFF_FFF0));
        a.cmp(edi, 0x1000);
        p.Require(a.jae, FailBarSize);
        PciConf1.Write(a, 0x04, 0x6); // command: memory space + bus master (status half written 0: no bits cleared)
        a.mov(eax, __dword_ptr[CapOffset(CommonCfg)]);
        a.lea(r14, __[r13 + rax]);
    }

    /// <summary>Reset, ACKNOWLEDGE, DRIVER; per 32-bit feature word: check the device offers <paramref name="features"/>, accept them; FEATURES_OK.</summary>
    private static void Negotiate(PayloadBuilder p, ulong features)
    {
        var a = p.Asm;
        a.mov(__byte_ptr[r14 + 20], 0);
        a.mov(__byte_ptr[r14 + 20], 1);
        a.mov(__byte_ptr[r14 + 20], 3);
        for (int word = 0; word < 2; word++)
        {
            int wanted = unchecked((int)(uint)(features >> (32 * word)));
            if (wanted != 0)
            {
                a.mov(__dword_ptr[r14 + 0], word); // device_feature_select
                a.mov(eax, __dword_ptr[r14 + 4]);
                a.and(eax, wanted);
                a.cmp(eax, wanted);
                p.Require(a.je, FailFeatureNotOffered);
            }
            a.mov(__dword_ptr[r14 + 8], word);  // driver_feature_select
            a.mov(__dword_ptr[r14 + 12], wanted);
        }
        a.mov(__byte_ptr[r14 + 20], 0x0B);
        a.test(__byte_ptr[r14 + 20], 0x08);
        p.Require(a.jnz, FailFeaturesRefused);
    }

    /// <summary>Entry 0 → APIC 0, vector <see cref="Vector"/>, unmasked; MSI-X enable in message control.</summary>
    private static void ProgramMsix(PayloadBuilder p)
    {
        var a = p.Asm;
        a.mov(ebx, __dword_ptr[MsixCapability]);
        PciConf1.ReadAt(a, 4); // table offset / BIR
        a.test(eax, 7);
        p.Require(a.jz, FailMsixBar);
        a.lea(rdi, __[r13 + rax]);
        a.mov(__dword_ptr[rdi + 0], unchecked((int)PayloadPorts.LapicBase)); // destination APIC id 0
        a.mov(__dword_ptr[rdi + 4], 0);
        a.mov(__dword_ptr[rdi + 8], Vector);                                 // fixed, edge
        a.mov(__dword_ptr[rdi + 12], 0);                                     // unmask
        PciConf1.WriteControlWordAt(a, unchecked((short)0x8000));            // MSI-X enable
        a.mov(__word_ptr[r14 + 16], unchecked((short)0xFFFF));               // msix_config = NO_VECTOR
    }

    /// <summary>Queue 0: size, ring addresses, vector 0, notify address into r15, enable, DRIVER_OK.</summary>
    private static void SetUpQueue(PayloadBuilder p, ushort size)
    {
        var a = p.Asm;
        a.mov(__word_ptr[r14 + 22], 0);
        a.cmp(__word_ptr[r14 + 24], 0);
        p.Require(a.jne, FailNoQueue);
        a.mov(__word_ptr[r14 + 24], (short)size);
        a.mov(__dword_ptr[r14 + 32], (int)Descriptors);
        a.mov(__dword_ptr[r14 + 36], 0);
        a.mov(__dword_ptr[r14 + 40], (int)Available);
        a.mov(__dword_ptr[r14 + 44], 0);
        a.mov(__dword_ptr[r14 + 48], (int)Used);
        a.mov(__dword_ptr[r14 + 52], 0);
        a.mov(__word_ptr[r14 + 26], 0);
        a.cmp(__word_ptr[r14 + 26], 0);
        p.Require(a.je, FailVectorRefused);
        a.movzx(eax, __word_ptr[r14 + 30]); // queue_notify_off
        a.imul(eax, __dword_ptr[NotifyMultiplier]);
        a.add(eax, __dword_ptr[CapOffset(NotifyCfg)]);
        a.lea(r15, __[r13 + rax]);
        a.mov(__word_ptr[r14 + 28], 1);
        a.mov(__byte_ptr[r14 + 20], 0x0F);
        a.test(__byte_ptr[r14 + 20], 0x40);
        p.Require(a.jz, FailNeedsReset);
    }
}
