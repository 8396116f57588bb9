#include "volume.h"
#include "volume_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/filter.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/lock.h"
#include "../vmmgr/core/tags.h"
#include "disk.h"
#include "snapshot.h"



/* EBS types: default and maximum IOPS and throughput (MiB/s) that become libvirt I/O limits */
static const vol_type types[] = {
    { "gp3", 3000, 16000, 125, false }, { "gp2", 3000, 16000, 250, false }, { "io1", 0, 64000, 1000, true },
    { "io2", 0, 64000, 1000, true },    { "st1", 500, 500, 500, false },    { "sc1", 250, 250, 250, false },
    { "standard", 200, 200, 90, false },
};

const vol_type *
vol_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

/* The volume's lock, held by every operation on it; it dies with its process. */
int
vol_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err)
{
    return vm_ctx_lock(ctx, id, nonblock, err);
}


void
vol_obj_free(vol_obj *v)
{
    if (!v)
        return;
    free(v->path);
    free(v->client_token);
    free(v->instance_id);
    free(v->device);
    free(v->attach_state);
    free(v->snapshot_id);
    free(v);
}


vol_obj *
vol_from_row(sqlite3_stmt *st)
{
    vol_obj *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    snprintf(v->id, sizeof(v->id), "%s", vm_db_text(st, 0));
    v->size_gib = sqlite3_column_int64(st, 1);
    snprintf(v->type, sizeof(v->type), "%s", vm_db_text(st, 2));
    v->iops = sqlite3_column_int64(st, 3);
    v->throughput = sqlite3_column_int64(st, 4);
    snprintf(v->state, sizeof(v->state), "%s", vm_db_text(st, 5));
    v->path = strdup(vm_db_text(st, 6));
    v->client_token = strdup(vm_db_text(st, 7));
    v->created_at = sqlite3_column_int64(st, 8);
    v->snapshot_id = strdup(vm_db_text(st, 13));
    v->delete_on_termination = sqlite3_column_int(st, 14);
    snprintf(v->az, sizeof(v->az), "%s", vm_db_text(st, 15));
    if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
        v->instance_id = strdup(vm_db_text(st, 9));
        v->device = strdup(vm_db_text(st, 10));
        v->attach_state = strdup(vm_db_text(st, 11));
        v->attach_time = sqlite3_column_int64(st, 12);
    }
    return v;
}

int
vol_get(vm_ctx *ctx, const char *id, vol_obj **ret, vm_error *err)
{
    if (!vm_id_valid(id, "vol"))
        return vm_error_set(err, VM_ERR_VOLUME_MALFORMED, "Invalid id: \"%s\" (expecting \"vol-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " VOL_COLUMNS " FROM volumes WHERE id = ? AND state != 'deleted'", "t",
                   id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_VOLUME_NOT_FOUND, "The volume '%s' does not exist.", id);
    if (!(*ret = vol_from_row(st)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

int
vol_update(vm_ctx *ctx, const char *id, const char *state, const char *instance, const char *device,
           const char *attach_state, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "UPDATE volumes SET state = ?, instance_id = ?, device = ?, attach_state = ?, "
                      "attach_time = CASE WHEN ?3 IS NULL THEN NULL ELSE coalesce(attach_time, strftime('%s','now')) END "
                      "WHERE id = ?",
                      &st, err) < 0 || vm_db_bind(st, err, "ttttt", state, instance, device, attach_state, id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving volume", err);
    return 0;
}

void
vol_render_attachment(vm_node *it, const vol_obj *v)
{
    vm_node_str(it, "volumeId", NULL, v->id);
    vm_node_str(it, "instanceId", NULL, v->instance_id);
    vm_node_str(it, "device", NULL, v->device);
    vm_node_str(it, "status", "State", v->attach_state);
    vm_node_time(it, "attachTime", NULL, v->attach_time);
    vm_node_bool(it, "deleteOnTermination", NULL, v->delete_on_termination);
}

static int
render_volume(vm_ctx *ctx, vm_node *it, const vol_obj *v, vm_error *err)
{
    vm_node_str(it, "volumeId", NULL, v->id);
    vm_node_int(it, "size", NULL, v->size_gib);
    vm_node_str(it, "snapshotId", NULL, v->snapshot_id);
    vm_node_str(it, "availabilityZone", NULL, v->az);
    vm_node_str(it, "status", "State", v->state);
    vm_node_time(it, "createTime", NULL, v->created_at);
    vm_node *att = vm_node_list(it, "attachmentSet", "Attachments");
    if (v->instance_id)
        vol_render_attachment(vm_node_item(att), v);
    vm_node_str(it, "volumeType", NULL, v->type);
    vm_node_int(it, "iops", NULL, v->iops);
    if (strcmp(v->type, "gp3") == 0)
        vm_node_int(it, "throughput", NULL, v->throughput);
    vm_node_bool(it, "encrypted", NULL, false);
    vm_node_bool(it, "multiAttachEnabled", NULL, false);
    return vm_tags_render(ctx, it, v->id, err);
}

/* A CreateVolume with a client token seen before: 1 with the first call's volume in resp (0 when
 * the token is new, -1 with IdempotentParameterMismatch when the arguments differ). */
static int
token_replay(vm_ctx *ctx, const char *token, const char *request, vm_node *resp, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT id, request FROM volumes WHERE client_token = ?", "t", token) < 0)
        return -1;
    if (sqlite3_step(q) != SQLITE_ROW)
        return 0;
    if (strcmp(vm_db_text(q, 1), request ? request : "") != 0)
        return vm_error_set(err, VM_ERR_IDEMPOTENT_MISMATCH,
                            "Arguments on this idempotent request are inconsistent with arguments used in previous "
                            "request(s) with client token '%s'",
                            token);
    char existing[VM_ID_MAX];
    snprintf(existing, sizeof(existing), "%s", vm_db_text(q, 0));
    sqlite3_reset(q);
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    return vol_get(ctx, existing, &v, err) < 0 || render_volume(ctx, resp, v, err) < 0 ? -1 : 1;
}

static int vol_create_locked(vm_ctx *ctx, const vol_create_req *r, const char *id, const char *path,
                             const vol_type *t, long size, long iops, long mibps, const char *snap_path, long snap_size,
                             vm_node *resp, vm_error *err);

int
vol_create(vm_ctx *ctx, const vol_create_req *r, vm_node *resp, vm_error *err)
{
    const char *token = r->client_token, *snap = r->snapshot_id;
    _cleanup_free_ char *snap_path = NULL;
    long snap_size = 0;
    /* a retry gets the first call's volume, whatever changed since (the snapshot may be gone) */
    int seen = token ? token_replay(ctx, token, r->request, resp, err) : 0;
    if (seen != 0)
        return seen < 0 ? -1 : 0;
    if (snap && snap_source(ctx, snap, &snap_path, &snap_size, err) < 0)
        return -1;
    if (!snap && !r->size)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter Size");
    long size = r->size ? r->size : snap_size;
    if (size < snap_size)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Volume of %ldGiB is smaller than snapshot '%s' (%ldGiB)", size, snap, snap_size);
    const vol_type *t = vol_type_find(r->type ? r->type : "gp3");
    if (!t)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter volumeType is invalid",
                            r->type);
    if (r->az && vm_zone_find(ctx, r->az) < 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter availabilityZone is invalid",
                            r->az);
    if (r->iops >= 0 && (r->iops < 100 || r->iops > t->max_iops))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "value '%ld' for parameter 'Iops' is not an integer from 100 to %ld", r->iops, t->max_iops);
    long iops = r->iops >= 0 ? r->iops : t->iops, mibps = r->throughput >= 0 ? r->throughput : t->mibps;
    if (t->iops_given && r->iops < 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The parameter iops must be specified for %s volumes", t->name);
    if (!t->iops_given && strcmp(t->name, "gp3") != 0 && r->iops >= 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION, "%s volumes do not take Iops", t->name);
    if (ctx->dry_run)
        return vm_error_dry_run(err);

    char id[VM_ID_MAX], path[4200];
    vm_id_new("vol", id);
    snprintf(path, sizeof(path), "%s/volumes/%s.qcow2", ctx->state_dir, id);
    int vlock = vol_lock(ctx, id, false, err);
    if (vlock < 0)
        return -1;
    int rc = vol_create_locked(ctx, r, id, path, t, size, iops, mibps, snap_path, snap_size, resp, err);
    vm_lock_release(vlock);
    return rc;
}

static int
vol_create_locked(vm_ctx *ctx, const vol_create_req *r, const char *id, const char *path, const vol_type *t, long size,
                  long iops, long mibps, const char *snap_path, long snap_size, vm_node *resp, vm_error *err)
{
    const char *token = r->client_token, *snap = r->snapshot_id;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    int seen = token ? token_replay(ctx, token, r->request, resp, err) : 0;
    if (seen != 0) {
        vm_db_rollback(ctx->db);
        return seen < 0 ? -1 : 0;
    }
    /* intent first: a crash leaves a 'creating' row that reconcile can finish or drop */
    if (vm_db_run(ctx->db, err,
                  "INSERT INTO volumes (id, size_gib, type, iops, throughput, state, path, client_token, request, "
                  "created_at, snapshot_id, az) VALUES (?, ?, ?, ?, ?, 'creating', ?, ?, ?, strftime('%s','now'), ?, "
                  "?)",
                  "titiittttt", id, (long long)size, t->name, (long long)iops, (long long)mibps, path, token,
                  r->request ? r->request : "", snap ? snap : "", r->az ? r->az : ctx->az) < 0 ||
        vm_tags_put(ctx, id, r->tags, r->ntags, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_crash_point("volume-recorded");

    int rc = disk_pool_ensure(ctx, err);
    if (rc == 0 && snap) {
        /* a restored volume: the snapshot's data, grown to the size asked for */
        rc = disk_file_copy(snap_path, path, false, err);
        if (rc == 0 && size > snap_size)
            rc = disk_file_grow(path, size, err);
        if (rc == 0)
            disk_pool_refresh(ctx);
    } else if (rc == 0) {
        rc = disk_pool_create(ctx, id, size, err);
    }
    if (rc < 0) {
        vm_error ignore = { 0 };
        unlink(path);
        vol_update(ctx, id, "deleted", NULL, NULL, NULL, &ignore);
        vm_db_run(ctx->db, &ignore, "UPDATE volumes SET client_token = NULL WHERE id = ?", "t", id);
        return -1;
    }
    if (vol_update(ctx, id, "available", NULL, NULL, NULL, err) < 0)
        return -1;
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    if (vol_get(ctx, id, &v, err) < 0)
        return -1;
    return render_volume(ctx, resp, v, err);
}

int
vol_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err)
{
    for (size_t i = 0; i < nids; i++) {
        _cleanup_(vol_obj_freep) vol_obj *v = NULL;
        if (vol_get(ctx, ids[i], &v, err) < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " VOL_COLUMNS " FROM volumes WHERE state != 'deleted' ORDER BY created_at, id",
                      &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "volumeSet", "Volumes");
    while (sqlite3_step(st) == SQLITE_ROW) {
        _cleanup_(vol_obj_freep) vol_obj *v = vol_from_row(st);
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        if (nids && !vm_match_any(v->id, ids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *fn = fs->v[f].name;
            char size[24];
            snprintf(size, sizeof(size), "%ld", v->size_gib);
            const char *subject = strcmp(fn, "volume-id") == 0                ? v->id
                                  : strcmp(fn, "status") == 0                 ? v->state
                                  : strcmp(fn, "attachment.instance-id") == 0 ? (v->instance_id ? v->instance_id : "")
                                  : strcmp(fn, "attachment.device") == 0      ? (v->device ? v->device : "")
                                  : strcmp(fn, "attachment.status") == 0 ? (v->attach_state ? v->attach_state : "")
                                  : strcmp(fn, "volume-type") == 0       ? v->type
                                  : strcmp(fn, "size") == 0              ? size
                                  : strcmp(fn, "availability-zone") == 0 ? v->az
                                  : strcmp(fn, "snapshot-id") == 0       ? (v->snapshot_id ? v->snapshot_id : "")
                                  : strcmp(fn, "encrypted") == 0 || strcmp(fn, "multi-attach-enabled") == 0 ||
                                          strcmp(fn, "fast-restored") == 0
                                      ? "false"
                                  : strcmp(fn, "attachment.delete-on-termination") == 0 && v->instance_id
                                      ? (v->delete_on_termination ? "true" : "false")
                                      : NULL;
            int m = subject ? vm_match_any(subject, fs->v[f].values) : vm_tags_match(ctx, v->id, fn, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        int take = keep ? vm_page_take(&ctx->page) : 0;
        if (take < 0)
            break;
        if (!take)
            continue;
        if (render_volume(ctx, vm_node_item(list), v, err) < 0)
            return -1;
    }
    return 0;
}

/* Whether v may be deleted now. */
static int
delete_check(const vol_obj *v, vm_error *err)
{
    if (v->instance_id)
        return vm_error_set(err, VM_ERR_VOLUME_IN_USE, "Volume %s is currently attached to %s", v->id, v->instance_id);
    if (strcmp(v->state, "available") != 0 && strcmp(v->state, "deleting") != 0)
        return vm_error_set(err, VM_ERR_INCORRECT_STATE, "Volume '%s' is %s", v->id, v->state);
    return 0;
}

int
vol_delete(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err)
{
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    if (vol_get(ctx, id, &v, err) < 0 || delete_check(v, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    int fd = vol_lock(ctx, id, false, err);
    if (fd < 0)
        return -1;
    /* again under the lock: an attach or a snapshot may have come first */
    vol_obj_free(TAKE_PTR(v));
    if (vol_get(ctx, id, &v, err) < 0 || delete_check(v, err) < 0) {
        vm_lock_release(fd);
        return -1;
    }
    int rc = vol_update(ctx, id, "deleting", NULL, NULL, NULL, err);
    vm_crash_point("volume-deleting");
    if (rc == 0)
        rc = disk_pool_delete(ctx, id, err);
    if (rc == 0 && (unlink(v->path) < 0 && errno != ENOENT))
        rc = vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", v->path);
    if (rc == 0)
        rc = vol_update(ctx, id, "deleted", NULL, NULL, NULL, err);
    vm_lock_release(fd);
    if (rc < 0)
        return -1;
    vm_node_bool(resp, "return", NULL, true);
    return 0;
}









int
vol_root_record(vm_ctx *ctx, const char *vol_id, const char *instance_id, const char *path, long size_gib,
                bool delete_on_termination, const char *image_id, vm_error *err)
{
    const vol_type *t = vol_type_find("gp3");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO volumes (id, size_gib, type, iops, throughput, state, path, created_at, instance_id, "
                   "device, attach_state, attach_time, delete_on_termination, base_image, az) VALUES "
                   "(?1, ?2, 'gp3', ?3, ?4, 'in-use', ?5, strftime('%s','now'), ?6, '/dev/vda', 'attached', "
                   "strftime('%s','now'), ?7, ?8, coalesce((SELECT s.az FROM network_interfaces n JOIN subnets s ON "
                   "s.id = n.subnet_id WHERE n.instance_id = ?6), ?9))",
                   "tiiittitt", vol_id, (long long)size_gib, (long long)t->iops, (long long)t->mibps, path, instance_id,
                   (long long)delete_on_termination, image_id, ctx->az) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording root volume", err);
    return 0;
}

int
vol_root_release(vm_ctx *ctx, const char *vol_id, const char *path, bool discard, vm_error *err)
{
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    vm_error none = { 0 };
    if (!vol_id[0] || vol_get(ctx, vol_id, &v, &none) < 0) {
        /* a record from before root volumes, or already released */
        return vol_id[0] ? 0 : (unlink(path) < 0 && errno != ENOENT
                                    ? vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", path)
                                    : 0);
    }
    if (!discard && !v->delete_on_termination)
        return vol_update(ctx, vol_id, "available", NULL, NULL, NULL, err);
    if (unlink(v->path) < 0 && errno != ENOENT)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot remove '%s'", v->path);
    return vol_update(ctx, vol_id, "deleted", NULL, NULL, NULL, err);
}

int
vol_uses_image(vm_ctx *ctx, const char *image_id, char ret_id[32], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM volumes WHERE base_image = ? AND state != 'deleted' LIMIT 1", "t",
                   image_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(ret_id, 32, "%s", vm_db_text(st, 0));
    return 1;
}

void
vol_reconcile(vm_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ctx->db,
                           "SELECT " VOL_COLUMNS " FROM volumes WHERE state IN ('creating', 'deleting') "
                           "OR attach_state IN ('attaching', 'detaching') LIMIT 64",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    vol_obj *todo[64];
    int n = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
        if ((todo[n] = vol_from_row(st)))
            n++;
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        vol_obj *v = todo[i];
        vm_error err = { 0 };
        int fd = vol_lock(ctx, v->id, true, &err);
        if (fd < 0) {
            vol_obj_free(v);
            continue; /* another process is on it */
        }
        struct stat sb;
        if (strcmp(v->state, "creating") == 0) {
            /* the file may be partial: a volume nobody was told about goes */
            unlink(v->path);
            vol_update(ctx, v->id, "deleted", NULL, NULL, NULL, &err);
            vm_db_run(ctx->db, &(vm_error){ 0 }, "UPDATE volumes SET client_token = NULL WHERE id = ?", "t", v->id);
        } else if (strcmp(v->state, "deleting") == 0) {
            if (unlink(v->path) == 0 || (errno == ENOENT && stat(v->path, &sb) < 0))
                vol_update(ctx, v->id, "deleted", NULL, NULL, NULL, &err);
        } else if (v->instance_id) {
            /* attaching or detaching: the domain's definition says which way it went; a detach
             * is done when the running guest has let the disk go too */
            int where = disk_where(ctx, v->instance_id, v->path);
            if (where > 0 && (where & DISK_IN_CONFIG))
                vol_update(ctx, v->id, "in-use", v->instance_id, v->device, "attached", &err);
            else if (where == 0)
                vol_update(ctx, v->id, "available", NULL, NULL, NULL, &err);
            else if (where == DISK_IN_LIVE && strcmp(v->attach_state, "detaching") == 0)
                vol_unplug_again(ctx, v);
        }
        vm_lock_release(fd);
        vol_obj_free(v);
    }
}

void
vol_limits(vm_ctx *ctx, const char *id, long *ret_iops, long *ret_bps)
{
    _cleanup_(vol_obj_freep) vol_obj *v = NULL;
    vm_error ignore = { 0 };
    *ret_iops = *ret_bps = 0;
    if (id && id[0] && vol_get(ctx, id, &v, &ignore) == 0) {
        *ret_iops = v->iops;
        *ret_bps = v->throughput * MIB;
    }
}
