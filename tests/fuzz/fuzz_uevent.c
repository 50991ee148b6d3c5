/*
 * fuzz_uevent.c - libFuzzer harness: pt_uevent_parse() and
 * pt_uevent_relevant() on any message, and the classic-BPF socket filter
 * of pt_uevent_filter_attach(), read back from a socket (SO_GET_FILTER)
 * and run here by a small interpreter that checks every jump and load.
 * The filter must never drop what the daemon needs: a kernel-shaped event
 * (action of 3-15 characters) of the pci or pci_bus subsystem whose
 * DEVPATH is under /devices/pci.
 */
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sock_filter prog[BPF_MAXINSNS];
static unsigned prog_len;

static void load_filter(void)
{
    int sv[2];
    socklen_t n = BPF_MAXINSNS;

    if ( socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 || pt_uevent_filter_attach(sv[0]) )
        abort();
    /* SO_GET_FILTER: optlen counts instructions. */
    if ( getsockopt(sv[0], SOL_SOCKET, SO_GET_FILTER, prog, &n) < 0 || n == 0 || n > BPF_MAXINSNS )
        abort();
    prog_len = n;
    close(sv[0]);
    close(sv[1]);
}

/* The classic BPF subset the filter may use; aborts on anything else or a stray jump. */
static uint32_t run_filter(const uint8_t *pkt, size_t len)
{
    uint32_t a = 0;

    for ( unsigned pc = 0; pc < prog_len; pc++ )
    {
        const struct sock_filter *f = &prog[pc];

        switch ( f->code )
        {
        case BPF_LD | BPF_B | BPF_ABS:
            if ( f->k >= len )
                return 0;       /* the kernel drops on a load past the end */
            a = pkt[f->k];
            break;
        case BPF_LD | BPF_W | BPF_ABS:
            if ( f->k > len || len - f->k < 4 )
                return 0;
            a = (uint32_t)pkt[f->k] << 24 | (uint32_t)pkt[f->k + 1] << 16 |
                (uint32_t)pkt[f->k + 2] << 8 | pkt[f->k + 3];
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += a == f->k ? f->jt : f->jf;
            if ( pc + 1 >= prog_len )
                abort();        /* jumps past the program */
            break;
        case BPF_RET | BPF_K:
            return f->k;
        default:
            abort();            /* an instruction this harness does not model */
        }
    }
    abort();                    /* ran off the end without a return */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_uevent ev;
    uint32_t verdict;
    char *buf;

    if ( !prog_len )
        load_filter();
    buf = malloc(size ? size : 1);
    if ( !buf )
        return 0;
    memcpy(buf, data, size);
    verdict = run_filter(data, size);
    if ( pt_uevent_parse(buf, size, &ev) == 0 )
    {
        size_t alen = strlen(ev.action);

        if ( pt_uevent_relevant(&ev) && alen >= 3 && alen <= 15 &&
             !strncmp(ev.devpath, "/devices/pci", 12) && verdict == 0 )
            abort();            /* the filter dropped an event the daemon needs */
    }
    free(buf);
    return 0;
}
