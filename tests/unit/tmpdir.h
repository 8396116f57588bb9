/* A scratch state dir per test, removed with everything in it afterwards. */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline int
tmpdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void
tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A context on a fresh state dir and libvirt's test driver, for a TestSuite's .init/.fini.
 * Criterion runs each test in its own process, so these statics are per test. */
#ifdef VMMGR_SCRATCH_CTX
#include <criterion/criterion.h>

#include "../../vmmgr/core/ctx.h"

static char scratch_dir[] = "/tmp/vmmgr-unit.XXXXXX";
static vm_ctx *ctx;

static void
scratch_setup(void)
{
    cr_assert_not_null(mkdtemp(scratch_dir));
    vm_error err = { 0 };
    ctx = vm_ctx_new(scratch_dir, "test:///default", &err);
    cr_assert_not_null(ctx, "%s", err.msg);
}

static void
scratch_teardown(void)
{
    vm_ctx_free(ctx);
    tmpdir_remove(scratch_dir);
}
#endif
