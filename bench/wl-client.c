/* A plain libwayland client for the proxy bench rows (bench/run.sh), run natively and through the guest proxy:
 *   wl-client roundtrip N        N timed wl_display_roundtrip calls; prints the microseconds of each
 *   wl-client frames N full|64   an xdg_toplevel of 1920x1080 XRGB8888, two wl_shm buffers; per frame: wait for a free
 *                                buffer, write the whole buffer (full) or a 64x64 square at (64, 64) (64), attach,
 *                                damage_buffer that area, commit, wl_display_roundtrip; prints frames and seconds
 *                                (N may be 0: only the four untimed frames)
 * The compositor is $WAYLAND_DISPLAY. Exits 1 with a line on stderr on any failure. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>
#include "xdg-shell-client-protocol.h"

#define W 1920
#define H 1080
#define STRIDE (W * 4)
#define SIZE (STRIDE * H)

static struct wl_compositor *compositor;
static struct wl_shm *shm;
static struct xdg_wm_base *wm_base;
static int configured, busy[2];

static void die(const char *what) { fprintf(stderr, "wl-client: %s\n", what); exit(1); }

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void ping(void *data, struct xdg_wm_base *base, uint32_t serial) { (void)data; xdg_wm_base_pong(base, serial); }
static const struct xdg_wm_base_listener wm_base_listener = { ping };

static void global(void *data, struct wl_registry *registry, uint32_t name, const char *interface, uint32_t version)
{
    (void)data; (void)version;
    if (!strcmp(interface, "wl_compositor")) compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
    else if (!strcmp(interface, "wl_shm")) shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
    else if (!strcmp(interface, "xdg_wm_base")) {
        wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
        xdg_wm_base_add_listener(wm_base, &wm_base_listener, NULL);
    }
}
static void global_remove(void *data, struct wl_registry *registry, uint32_t name) { (void)data; (void)registry; (void)name; }
static const struct wl_registry_listener registry_listener = { global, global_remove };

static void surface_configure(void *data, struct xdg_surface *surface, uint32_t serial)
{
    (void)data;
    xdg_surface_ack_configure(surface, serial);
    configured = 1;
}
static const struct xdg_surface_listener surface_listener = { surface_configure };
static void toplevel_configure(void *d, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *s) { (void)d; (void)t; (void)w; (void)h; (void)s; }
static void toplevel_close(void *d, struct xdg_toplevel *t) { (void)d; (void)t; }
static const struct xdg_toplevel_listener toplevel_listener = { .configure = toplevel_configure, .close = toplevel_close };

static void released(void *data, struct wl_buffer *buffer) { (void)buffer; busy[(long)data] = 0; }
static const struct wl_buffer_listener buffer_listener = { released };

static int frames(struct wl_display *display, int n, int full)
{
    if (!compositor || !shm || !wm_base) die("missing wl_compositor, wl_shm or xdg_wm_base");
    struct wl_surface *surface = wl_compositor_create_surface(compositor);
    struct xdg_surface *xdg = xdg_wm_base_get_xdg_surface(wm_base, surface);
    xdg_surface_add_listener(xdg, &surface_listener, NULL);
    struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg);
    xdg_toplevel_add_listener(toplevel, &toplevel_listener, NULL);
    wl_surface_commit(surface);
    while (!configured)
        if (wl_display_dispatch(display) < 0) die("dispatch before configure");
    int fd = memfd_create("wl-client-pool", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 2L * SIZE) < 0) die("memfd");
    unsigned char *pixels = mmap(NULL, 2L * SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (pixels == MAP_FAILED) die("mmap");
    struct wl_shm_pool *pool = wl_shm_create_pool(shm, fd, 2 * SIZE);
    struct wl_buffer *buffers[2];
    for (long i = 0; i < 2; i++) {
        buffers[i] = wl_shm_pool_create_buffer(pool, i * SIZE, W, H, STRIDE, WL_SHM_FORMAT_XRGB8888);
        wl_buffer_add_listener(buffers[i], &buffer_listener, (void *)i);
    }
    double start = 0;
    /* Four untimed frames: each buffer's first (whole), then one each in the timed mode, so that the timed frames find
     * the steady state (a buffer's first timed frame would otherwise still lack the other buffer's whole first frame). */
    for (int frame = -4; frame < n; frame++) {
        if (frame == 0) start = now_us();
        int b = frame & 1;
        while (busy[b])
            if (wl_display_dispatch(display) < 0) die("dispatch while waiting for a release");
        unsigned char *at = pixels + (long)b * SIZE;
        unsigned char value = (unsigned char)(frame * 37);
        if (full || frame < -2) {
            memset(at, value, SIZE);
            wl_surface_damage_buffer(surface, 0, 0, W, H);
        } else {
            for (int row = 64; row < 128; row++)
                memset(at + (long)row * STRIDE + 64 * 4, value, 64 * 4);
            wl_surface_damage_buffer(surface, 64, 64, 64, 64);
        }
        wl_surface_attach(surface, buffers[b], 0, 0);
        busy[b] = 1;
        wl_surface_commit(surface);
        if (wl_display_roundtrip(display) < 0) die("roundtrip after commit");
    }
    printf("frames=%d seconds=%.6f\n", n, (now_us() - start) / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) die("usage: wl-client roundtrip N | frames N full|64");
    struct wl_display *display = wl_display_connect(NULL);
    if (!display) die("cannot connect to $WAYLAND_DISPLAY");
    struct wl_registry *registry = wl_display_get_registry(display);
    wl_registry_add_listener(registry, &registry_listener, NULL);
    if (wl_display_roundtrip(display) < 0) die("first roundtrip");
    int n = atoi(argv[2]);
    if (!strcmp(argv[1], "frames"))
        return frames(display, n, argc < 4 || strcmp(argv[3], "64") != 0);
    for (int i = 0; i < n; i++) {
        double start = now_us();
        if (wl_display_roundtrip(display) < 0) die("roundtrip");
        printf("%.1f\n", now_us() - start);
    }
    wl_display_disconnect(display);
    return 0;
}
