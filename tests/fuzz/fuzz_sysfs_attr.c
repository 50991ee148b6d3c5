/*
 * fuzz_sysfs_attr.c - libFuzzer harness: the scanner's attribute parsing
 * (sysfs_scan.c's read_num_at() on a file, parse_name() of a directory
 * entry, build_path() of a link target) and pt_sbdf_parse().  The scanner's
 * static functions are reached by including its source.
 */
#include "../../tools/libpcitopo/sysfs_scan.c"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int attr_dir = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    pt_sbdf_t sbdf, back;
    char buf[PT_SBDF_STRLEN];
    long num;
    int fd;

    if ( !text )
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    /* SBDF text: what parses prints back the same way (full form). */
    if ( pt_sbdf_parse(text, 0, &sbdf) == 0 && strlen(text) == PT_SBDF_STRLEN - 1 &&
         text[4] == ':' && text[7] == ':' && text[10] == '.' )
    {
        if ( pt_sbdf_parse(pt_sbdf_fmt(sbdf, buf), 0, &back) || back != sbdf )
            abort();
    }
    (void)parse_name(text, strlen(text), &sbdf);
    free(build_path(text, size && (data[0] & 1), PT_SBDF(0, 1, 0)));

    /* An attribute file ("vendor", "numa_node", "sriov_numvfs", ...). */
    if ( attr_dir < 0 )
    {
        /* tmpfs when there is one: a file per execution on a disk is slow. */
        char shm[] = "/dev/shm/fuzz_sysfs_attr.XXXXXX", tmp[] = "/tmp/fuzz_sysfs_attr.XXXXXX";
        const char *dir = mkdtemp(shm) ? shm : mkdtemp(tmp);

        if ( !dir || (attr_dir = open(dir, O_RDONLY | O_DIRECTORY)) < 0 )
            abort();
    }
    fd = openat(attr_dir, "attr", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if ( fd >= 0 )
    {
        if ( write(fd, data, size) == (ssize_t)size )
            (void)read_num_at(attr_dir, "attr", &num);
        close(fd);
    }
    free(text);
    return 0;
}
