/* Scope-bound cleanup, after systemd's _cleanup_ and TAKE_PTR.
 *
 * A variable declared with one of these attributes is released when it goes out of scope.
 * TAKE_PTR(p) hands ownership out: it returns p and leaves NULL behind, so the cleanup does
 * nothing.  Every free function used here accepts NULL. */
#pragma once

#include <stdio.h>

#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define TAKE_PTR(p)                          \
    ({                                       \
        __typeof__(p) _take_tmp = (p);       \
        (p) = NULL;                          \
        _take_tmp;                           \
    })

#define VM_DEFINE_CLEANUP(type, func)                 \
    static inline void func##p(type *p)               \
    {                                                 \
        if (*p)                                       \
            func(*p);                                 \
    }

static inline void vm_freep(void *p) { free(*(void **)p); }
static inline void vm_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void vm_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define _cleanup_free_ _cleanup_(vm_freep)
#define _cleanup_close_ _cleanup_(vm_closep)
#define _cleanup_fclose_ _cleanup_(vm_fclosep)

static inline void vm_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
VM_DEFINE_CLEANUP(char **, vm_strv_free)
#define _cleanup_strv_ _cleanup_(vm_strv_freep)

/* Room for element n of the array *(T **)pv whose capacity is *cap (doubling from 8): 0, or -1 when
 * out of memory (the array unchanged). */
static inline int
vm_array_grow(void *pv, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t want = *cap ? 2 * *cap : 8;
    void *bigger = reallocarray(*(void **)pv, want, elem);
    if (!bigger)
        return -1;
    *(void **)pv = bigger;
    *cap = want;
    return 0;
}
