/* Golden files under $VMMGR_TEST_DATA; VMMGR_TEST_REGENERATE=1 rewrites them from the output. */
#pragma once

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void
golden_check(const char *name, const char *actual)
{
    const char *dir = getenv("VMMGR_TEST_DATA");
    cr_assert_not_null(dir, "VMMGR_TEST_DATA is not set (run through make check)");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *regen = getenv("VMMGR_TEST_REGENERATE");
    if (regen && strcmp(regen, "1") == 0) {
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "cannot write %s", path);
        fputs(actual, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "missing golden file %s (VMMGR_TEST_REGENERATE=1 makes it)", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    cr_expect_str_eq(actual, buf, "output differs from %s", path);
}
