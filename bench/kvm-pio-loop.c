/*
 * kvm-pio-loop: the C baseline for MiniVmm's PIO exit cost.
 *
 * One VM, one 4 MiB memory slot, one vCPU started directly in 64-bit long mode (identity-mapped
 * 2 MiB pages), running the same loop as MiniVmm's Payloads.PioExits:
 *
 *     mov ecx, N; mov dx, 0x80; 1: out dx, al; dec ecx; jnz 1b; hlt
 *
 * Each `out` is a KVM_EXIT_IO; the loop here does nothing but call KVM_RUN again. It prints the
 * nanoseconds per exit round trip (KVM_RUN -> exit -> KVM_RUN), timed over the whole loop.
 *
 * Usage: kvm-pio-loop [N]      (default 200000)
 * Build: gcc -O2 -o kvm-pio-loop kvm-pio-loop.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (4u << 20)
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define GDT 0x4000
#define CODE 0x10000

static void die(const char *what)
{
    fprintf(stderr, "kvm-pio-loop: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 200000;
    if (n == 0) {
        fprintf(stderr, "usage: kvm-pio-loop [N>0]\n");
        return 2;
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");

    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    /* Identity map of the first 4 MiB with 2 MiB pages. */
    uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT), *pd = (uint64_t *)(mem + PD);
    pml4[0] = PDPT | 3;
    pdpt[0] = PD | 3;
    pd[0] = 0x000000 | 0x83;
    pd[1] = 0x200000 | 0x83;
    /* GDT: null, 64-bit code (0x08), data (0x10); KVM_SET_SREGS loads the caches, this backs them. */
    uint64_t *gdt = (uint64_t *)(mem + GDT);
    gdt[1] = 0x00af9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;

    uint8_t code[] = {
        0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24, /* mov ecx, n */
        0x66, 0xba, 0x80, 0x00,                                     /* mov dx, 0x80 */
        0xee,                                                       /* 1: out dx, al */
        0xff, 0xc9,                                                 /* dec ecx */
        0x75, 0xfb,                                                 /* jnz 1b */
        0xf4,                                                       /* hlt */
        0xeb, 0xfd,                                                 /* jmp hlt */
    };
    memcpy(mem + CODE, code, sizeof code);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    /* Long mode needs CPUID.LM in the guest's CPUID table before EFER.LME is accepted. */
    int nent = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + nent * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = nent;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
        die("KVM_SET_CPUID2");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    struct kvm_segment cs = {
        .base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1,
        .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
    };
    struct kvm_segment ds = cs;
    ds.selector = 0x10;
    ds.type = 3;
    ds.l = 0;
    ds.db = 1;
    sregs.cs = cs;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
    sregs.gdt.base = GDT;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.cr3 = PML4;
    sregs.cr4 = 1u << 5;                     /* PAE */
    sregs.cr0 = 0x80050033;                  /* PG WP NE ET MP PE */
    sregs.efer = (1u << 8) | (1u << 10);     /* LME LMA */
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = CODE, .rflags = 2, .rsp = 0x200000 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");

    uint32_t exits = 0;
    double start = now_ns();
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            die("KVM_RUN");
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x80) {
            exits++;
            continue;
        }
        if (run->exit_reason == KVM_EXIT_HLT)
            break;
        fprintf(stderr, "kvm-pio-loop: unexpected exit %u (suberror %u) after %u PIO exits\n",
                run->exit_reason, run->internal.suberror, exits);
        return 1;
    }
    double elapsed = now_ns() - start;
    if (exits != n) {
        fprintf(stderr, "kvm-pio-loop: saw %u PIO exits, expected %u\n", exits, n);
        return 1;
    }
    printf("exits=%u total_ms=%.1f ns_per_exit=%.0f\n", n, elapsed / 1e6, elapsed / n);
    return 0;
}
