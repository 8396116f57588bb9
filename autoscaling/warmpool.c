/* Warm pools: instances launched ahead of need and kept Stopped, Hibernated (the guest's memory saved
 * by libvirt's managed save, so a scale-out resumes a booted guest instead of booting one) or
 * Running.  Size: max(MinSize, (MaxGroupPreparedCapacity or MaxSize) − desired).  A scale-out takes
 * from the pool first; with ReuseOnScaleIn a scale-in returns instances to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

int
asg_warm_pool_get(vm_ctx *ctx, const char *group, asg_warm_pool *ret, vm_error *err)
{
    *ret = (asg_warm_pool){ .max_prepared = -1 };
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT min_size, max_prepared, pool_state, reuse_on_scale_in, deleting FROM asg_warm_pools "
                   "WHERE group_name = ?",
                   "t", group) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    ret->exists = true;
    ret->min_size = sqlite3_column_int64(st, 0);
    ret->max_prepared = sqlite3_column_int64(st, 1);
    snprintf(ret->pool_state, sizeof(ret->pool_state), "%s", vm_db_text(st, 2));
    ret->reuse = sqlite3_column_int(st, 3);
    ret->deleting = sqlite3_column_int(st, 4);
    return 0;
}

int
asg_warm_pool_put(vm_ctx *ctx, const char *group, const asg_warm_pool *wp, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT OR REPLACE INTO asg_warm_pools (group_name, min_size, max_prepared, pool_state, "
                   "reuse_on_scale_in, deleting) VALUES (?, ?, ?, ?, ?, 0)",
                   "tiiti", group, (long long)wp->min_size, (long long)wp->max_prepared, wp->pool_state,
                   (long long)wp->reuse) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a warm pool", err);
    return 0;
}

int
asg_warm_pool_set_deleting(vm_ctx *ctx, const char *group, bool remove_now, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   remove_now ? "DELETE FROM asg_warm_pools WHERE group_name = ?"
                   : "UPDATE asg_warm_pools SET deleting = 1 WHERE group_name = ?",
                   "t", group) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting a warm pool", err);
    return 0;
}

long
asg_warm_pool_target(const asg_group *g, const asg_warm_pool *wp)
{
    if (!wp->exists || wp->deleting || g->deleting)
        return 0;
    long cap = wp->max_prepared >= 0 ? wp->max_prepared : g->max_size;
    long t = cap - g->desired;
    if (t < wp->min_size)
        t = wp->min_size;
    return t < 0 ? 0 : t;
}

bool
asg_warmed(const asg_member *m)
{
    return strncmp(m->lifecycle, "Warmed:", 7) == 0;
}

/* A member of the pool that a scale-out can take now. */
bool
asg_warm_ready(const asg_member *m)
{
    return strcmp(m->health, "Healthy") == 0 &&
           (strcmp(m->lifecycle, "Warmed:Stopped") == 0 || strcmp(m->lifecycle, "Warmed:Hibernated") == 0 ||
            strcmp(m->lifecycle, "Warmed:Running") == 0);
}
