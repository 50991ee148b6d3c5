/*
 * tap.h - a tiny test harness for the unit tests: each test program runs its
 * cases, prints one line per failed check, ends with "N passed, N failed"
 * and exits 0 only when nothing failed (automake's plain harness).
 */
#ifndef PT_TAP_H
#define PT_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_passed, tap_failed;

#define CHECK(cond) do { \
        if ( cond ) tap_passed++; \
        else { tap_failed++; \
               fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while ( 0 )

#define CHECKF(cond, ...) do { \
        if ( cond ) tap_passed++; \
        else { tap_failed++; \
               fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
               fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
    } while ( 0 )

#define CHECK_EQ_INT(a, b) CHECKF((long long)(a) == (long long)(b), "%lld != %lld", \
                                  (long long)(a), (long long)(b))
#define CHECK_EQ_STR(a, b) CHECKF((a) && (b) && !strcmp((a), (b)), "\"%s\" != \"%s\"", \
                                  (a) ? (a) : "(null)", (b) ? (b) : "(null)")

/* Call last in main(). */
static inline int tap_done(void)
{
    printf("%u passed, %u failed\n", tap_passed, tap_failed);
    return tap_failed ? 1 : 0;
}

#endif
