/* Instance lifecycle actions: RunInstances, TerminateInstances, StopInstances, StartInstances,
 * RebootInstances, GetConsoleOutput. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../images/catalog.h"
#include "../core/cleanup.h"
#include "../core/db.h"
#include "../core/job.h"
#include "../core/lock.h"
#include "../core/tags.h"
#include "../../net/net.h"
#include "../../storage/volume.h"
#include "instance.h"
#include "keypair.h"
#include "types.h"


#define CONSOLE_MAX (64 * 1024)

/* Instances locked by a request, in order: what it hands to a job. */
typedef struct locks {
    char (*id)[VM_ID_MAX];
    int *fd;
    size_t n, cap;
} locks;

static int
locks_add(locks *l, const char *id, int fd, vm_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char(*ids)[VM_ID_MAX] = reallocarray(l->id, cap, VM_ID_MAX);
        if (ids)
            l->id = ids;
        int *fds = ids ? reallocarray(l->fd, cap, sizeof(int)) : NULL;
        if (!fds) {
            vm_lock_release(fd);
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        l->fd = fds;
        l->cap = cap;
    }
    snprintf(l->id[l->n], VM_ID_MAX, "%s", id);
    l->fd[l->n++] = fd;
    return 0;
}

static void
locks_release(locks *l)
{
    for (size_t i = 0; i < l->n; i++)
        vm_lock_release(l->fd[i]);
    l->n = 0;
    free(l->id);
    free(l->fd);
    l->id = NULL;
    l->fd = NULL;
    l->cap = 0;
}

static int job_one(vm_ctx *ctx, const char *kind, const char *id, vm_error *err);

/* The rest of an action on the held instances, in this process: what a job does, for when no job
 * could be started.  The first error is returned; each instance's outcome is in its record. */
static int
job_all(vm_ctx *ctx, const char *kind, char (*ids)[VM_ID_MAX], int *fds, size_t n, vm_error *err)
{
    bool terminate = strcmp(kind, "terminate") == 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        vm_error one = { 0 }, ignore = { 0 };
        int r = job_one(ctx, kind, ids[i], &one);
        /* terminated meanwhile by a request that found it locked by this job: its teardown is ours */
        _cleanup_(inst_obj_freep) inst_obj *now = NULL;
        if (!terminate && inst_get(ctx, ids[i], &now, &ignore) == 0 && now->state == INST_SHUTTING_DOWN) {
            vm_error two = { 0 };
            if (job_one(ctx, "terminate", ids[i], &two) < 0 && r == 0) {
                r = -1;
                one = two;
            }
        }
        if (r < 0 && rc == 0) {
            rc = -1;
            if (err)
                *err = one;
        }
        /* each instance's lock goes as soon as its part is done (and is not closed twice after) */
        if (fds) {
            vm_lock_release(fds[i]);
            fds[i] = -1;
        }
    }
    return rc;
}

/* Hands the rest of an action on the held instances to a job (vmmgr/core/job.h), which takes over
 * their locks; when none can start, does it here.  Either way the locks are gone after. */
static int
hand_over(vm_ctx *ctx, const char *kind, locks *held, vm_error *err)
{
    if (held->n == 0)
        return 0;
    _cleanup_free_ char *ids = calloc(held->n, VM_ID_MAX);
    if (!ids) {
        locks_release(held);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < held->n; i++) {
        if (i)
            strcat(ids, ",");
        strcat(ids, held->id[i]);
    }
    vm_error spawn = { 0 };
    int rc = 0;
    if (vm_job_spawn(ctx, kind, ids, held->fd, held->n, &spawn) < 0)
        rc = job_all(ctx, kind, held->id, NULL, held->n, err);
    locks_release(held);
    return rc;
}

int
inst_job(vm_ctx *ctx, const char *kind, char *ids, char *fds, vm_error *err)
{
    locks got = { 0 };
    char *isave = NULL, *fsave = NULL;
    for (char *id = strtok_r(ids, ",", &isave), *fd = strtok_r(fds, ",", &fsave); id;
         id = strtok_r(NULL, ",", &isave), fd = fd ? strtok_r(NULL, ",", &fsave) : NULL)
        if (!vm_id_valid(id, "i") || locks_add(&got, id, fd ? atoi(fd) : -1, err) < 0) {
            locks_release(&got);
            return vm_error_is_set(err) ? -1 : vm_error_set(err, VM_ERR_INTERNAL, "bad instance id '%s'", id);
        }
    int rc = job_all(ctx, kind, got.id, got.fd, got.n, err);
    locks_release(&got);
    return rc;
}

/* The reservation already made for token, if any: 1 found, 0 none.  Same token, other request:
 * IdempotentParameterMismatch. */
static int
run_find_token(vm_ctx *ctx, const char *token, const char *request, char ret_rid[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id, request FROM reservations WHERE client_token = ?", "t", token) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    if (strcmp(vm_db_text(st, 1), request) != 0)
        return vm_error_set(err, VM_ERR_IDEMPOTENT_MISMATCH,
                            "Arguments on this idempotent request are inconsistent with arguments used in previous "
                            "request(s) with client token '%s'",
                            token);
    snprintf(ret_rid, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 1;
}

static int
render_reservation(vm_ctx *ctx, vm_node *resp, const char *rid, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_list(ctx, rid, &insts, err) < 0)
        return -1;
    return inst_render_reservation(ctx, resp, rid, insts, err);
}

/* Records the reservation and its instances (state pending, nothing done yet) in one
 * transaction, with the client token under its unique constraint. */
typedef struct run_attrs {
    bool disable_api_termination, disable_api_stop;
    const char *shutdown_behavior;
    const char *key_name;  /* "" for none */
    const char *user_data; /* base64, "" for none */
    unsigned long long root_size; /* 0: the image's */
    long root_gib;                /* the root volume's size as EBS reports it */
    bool root_delete;             /* DeleteOnTermination of the root volume */
    inst_md_opts md;
} run_attrs;

static int
run_record(vm_ctx *ctx, const char *rid, const char *token, const char *request, const char *image_id,
           const char *type, const run_attrs *attrs, const net_plan *plan, char (*ids)[VM_ID_MAX], long count,
           const vm_tag *tags, size_t ntags, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *res = NULL, *ins = NULL;
    if (vm_db_prepare(ctx->db, "INSERT INTO reservations (id, client_token, request, created_at) "
                               "VALUES (?, ?, ?, strftime('%s','now'))",
                      &res, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "INSERT INTO instances (id, reservation_id, image_id, instance_type, launch_index, state, "
                      "launch_step, launched_at, changed_at, disk_path, console_path, disable_api_termination, "
                      "disable_api_stop, shutdown_behavior, key_name, user_data, root_size, root_volume_id, md_tokens, "
                      "md_endpoint, md_hop_limit, md_tags) "
                      "VALUES (?, ?, ?, ?, ?, ?, 0, strftime('%s','now'), strftime('%s','now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                      "?, ?, ?, ?)",
                      &ins, err) < 0)
        return -1;
    if (vm_db_bind(res, err, "ttt", rid, token, request) < 0 || sqlite3_step(res) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording reservation", err);
    for (long i = 0; i < count; i++) {
        char disk[4096], console[4096], vol[VM_ID_MAX];
        vm_id_new("vol", vol);
        snprintf(disk, sizeof(disk), "%s/volumes/%s.qcow2", ctx->state_dir, vol);
        snprintf(console, sizeof(console), "%s/instances/%s/console.log", ctx->state_dir, ids[i]);
        sqlite3_reset(ins);
        if (vm_db_bind(ins, err, "ttttiittiitttitttit", ids[i], rid, image_id, type, (long long)((int)i),
                       (long long)INST_PENDING, disk, console, (long long)attrs->disable_api_termination,
                       (long long)attrs->disable_api_stop, attrs->shutdown_behavior, attrs->key_name, attrs->user_data,
                       (long long)((sqlite3_int64)attrs->root_size), vol, attrs->md.tokens, attrs->md.endpoint,
                       (long long)attrs->md.hop_limit, attrs->md.tags) < 0 || sqlite3_step(ins) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording instance", err);
        /* the interface first: the root volume is in its subnet's zone */
        if (vm_tags_put(ctx, ids[i], tags, ntags, err) < 0 || net_eni_record(ctx, plan, ids[i], err) < 0 ||
            vol_root_record(ctx, vol, ids[i], disk, attrs->root_gib, attrs->root_delete, image_id, err) < 0)
            return -1;
    }
    return 0;
}

/* A launch failed: undo every instance of the reservation and free its token, so that the
 * client's retry (5xx errors are retried with the same token) launches afresh. */
static void
run_rollback(vm_ctx *ctx, const char *rid, const vm_error *cause)
{
    vm_error ignore = { 0 };
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_list(ctx, rid, &insts, &ignore) < 0)
        return;
    for (inst_obj **i = insts; *i; i++) {
        if (inst_teardown(ctx, *i, true, &ignore) < 0)
            continue; /* stays pending; reconcile finishes it */
        inst_set_state(ctx, (*i)->id, INST_TERMINATED, "Server.InternalError", cause->msg, 0, &ignore);
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, &ignore, "UPDATE reservations SET client_token = NULL WHERE id = ?", "t", rid) == 0) {
        sqlite3_step(st);
    }
}

/* Block device mappings: for now only the root device, to make it larger. */
static int
run_block_devices(vm_ctx *ctx, const inst_run_req *req, img_obj *img, run_attrs *attrs, vm_error *err)
{
    unsigned long long base;
    attrs->root_size = 0;
    attrs->root_delete = true;
    if (img_size(ctx, img, &base, err) < 0)
        return -1;
    attrs->root_gib = (long)((base + (1ULL << 30) - 1) >> 30);
    for (size_t i = 0; i < req->nblock_devices; i++) {
        const inst_block_device *bd = &req->block_devices[i];
        const char *dev = bd->device_name;
        if (!dev || !*dev)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "A block device mapping must name its device");
        if (strcmp(dev, "/dev/vda") != 0 && strcmp(dev, "/dev/xvda") != 0 && strcmp(dev, "/dev/sda1") != 0)
            return vm_error_set(err, VM_ERR_INVALID_BLOCK_DEVICE_MAPPING,
                                "device '%s': only the root device (/dev/vda) can be mapped at launch for now", dev);
        if (bd->volume_size_gib < 0 || bd->volume_size_gib > 16384)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Volume size %ld GiB is out of range (1-16384)",
                                bd->volume_size_gib);
        if (bd->delete_on_termination >= 0)
            attrs->root_delete = bd->delete_on_termination;
        if (bd->volume_size_gib) {
            long gib = bd->volume_size_gib;
            if ((unsigned long long)gib << 30 < base)
                return vm_error_set(err, VM_ERR_INVALID_BLOCK_DEVICE_MAPPING,
                                    "Volume of size %ldGiB is smaller than the image (%lluGiB)", gib,
                                    (base + (1ULL << 30) - 1) >> 30);
            attrs->root_size = (unsigned long long)gib << 30;
            attrs->root_gib = gib;
        }
    }
    return 0;
}

/* UserData is base64 of at most 16 KiB, as EC2 limits it */
static int
check_user_data(const char *b64, vm_error *err)
{
    size_t len = strlen(b64);
    if (len == 0)
        return 0;
    if (len % 4 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid BASE64 encoding of user data");
    size_t raw = len / 4 * 3 - (b64[len - 1] == '=') - (b64[len - 2] == '=');
    if (raw > 16384)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "User data is limited to 16384 bytes (this is %zu bytes)", raw);
    return 0;
}

int
inst_render_run(vm_ctx *ctx, vm_node *resp, const char *rid, vm_error *err)
{
    return render_reservation(ctx, resp, rid, err);
}

int
inst_run_start(vm_ctx *ctx, const inst_run_req *req, char ret_rid[VM_ID_MAX], vm_error *err)
{
    const char *image_id = req->image_id, *token = req->client_token, *request = req->request ? req->request : "";
    const char *type = req->instance_type ? req->instance_type : INST_TYPE_DEFAULT;
    long min = req->min_count, max = req->max_count;
    bool dry = req->dry_run;
    run_attrs attrs = {
        .disable_api_termination = req->disable_api_termination,
        .disable_api_stop = req->disable_api_stop,
        .shutdown_behavior = req->shutdown_behavior ? req->shutdown_behavior : "stop",
        .key_name = req->key_name ? req->key_name : "",
        .user_data = req->user_data ? req->user_data : "",
        .md = req->md.tokens[0] ? req->md : INST_MD_DEFAULT,
    };
    _cleanup_(img_obj_freep) img_obj *img = NULL;
    if (!image_id || !*image_id)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter ImageId");

    /* a retry answers with the first reservation before any check that depends on state (the
     * address its first attempt took, an image deregistered since): the token comes first */
    if (token && (strlen(token) > 64 || !*token))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "ClientToken must be 1 to 64 ASCII characters");
    for (const char *c = token; c && *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "ClientToken must be printable ASCII");
    if (token && !dry) {
        int found = run_find_token(ctx, token, request, ret_rid, err);
        if (found != 0)
            return found < 0 ? -1 : 0;
    }

    if (min < 1 || min > INST_RUN_MAX_COUNT || max < 1 || max > INST_RUN_MAX_COUNT)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "MinCount and MaxCount must be 1 to %d",
                            INST_RUN_MAX_COUNT);
    if (img_get(ctx, image_id, &img, err) < 0)
        return -1;
    if (min > max)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "MinCount (%ld) must not exceed MaxCount (%ld)",
                            min, max);
    if (check_user_data(attrs.user_data, err) < 0 || run_block_devices(ctx, req, img, &attrs, err) < 0)
        return -1;
    if (attrs.key_name[0]) {
        _cleanup_free_ char *pub = kp_public_key(ctx, attrs.key_name, err);
        if (!pub)
            return -1;
    }
    if (strcmp(attrs.shutdown_behavior, "stop") != 0 && strcmp(attrs.shutdown_behavior, "terminate") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "InstanceInitiatedShutdownBehavior must be 'stop' or 'terminate', not '%s'",
                            attrs.shutdown_behavior);
    if (!inst_type_find(type))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The instance type '%s' does not exist", type);
    if (strcmp(img->state, "available") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Image '%s' is not available", img->id);
    if (!vm_ctx_initialized(ctx))
        return vm_error_set(err, VM_ERR_UNAVAILABLE, "vmmgr is not initialised: run 'vmmgr init'");
    net_plan plan;
    if (net_plan_launch(ctx, &req->net, max, &plan, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    vm_trace("launch planned");
    if (!vm_ctx_conn(ctx, err))
        return -1;
    vm_trace("libvirt connected");

    char rid[VM_ID_MAX], id[VM_ID_MAX];
    vm_id_new("r", rid);
    locks held = { 0 };
    for (long i = 0; i < max; i++) {
        vm_id_new("i", id);
        /* locked before the record exists, so no reconcile elsewhere takes up the launch */
        int fd = inst_lock(ctx, id, false, err);
        if (fd < 0 || locks_add(&held, id, fd, err) < 0) {
            locks_release(&held);
            return -1;
        }
    }

    if (vm_db_begin(ctx->db, err) < 0) {
        locks_release(&held);
        return -1;
    }
    if (token) {
        char existing[VM_ID_MAX];
        int found = run_find_token(ctx, token, request, existing, err);
        if (found != 0) {
            vm_db_rollback(ctx->db);
            locks_release(&held);
            if (found > 0)
                snprintf(ret_rid, VM_ID_MAX, "%s", existing);
            return found < 0 ? -1 : 0;
        }
    }
    if (run_record(ctx, rid, token, request, img->id, type, &attrs, &plan, held.id, max, req->tags, req->ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        locks_release(&held);
        return -1;
    }
    vm_crash_point("recorded");
    vm_trace("launch recorded");

    /* the disks, domains and their start are a job's: the answer is the reservation, pending (a
     * launch that fails there ends terminated, with the cause as its state reason, as on EC2) */
    if (hand_over(ctx, "launch", &held, err) < 0) {
        run_rollback(ctx, rid, err); /* done here, as no job could start: the client retries */
        return -1;
    }
    vm_trace("launch handed over");
    snprintf(ret_rid, VM_ID_MAX, "%s", rid);
    return 0;
}

static void
render_change(vm_node *list, const char *id, inst_state prev, inst_state cur)
{
    if (!list)
        return;
    vm_node *it = vm_node_item(list);
    vm_node_str(it, "instanceId", NULL, id);
    vm_node *c = vm_node_struct(it, "currentState", NULL);
    vm_node_int(c, "code", NULL, inst_state_code(cur));
    vm_node_str(c, "name", NULL, inst_state_to_string(cur));
    vm_node *pv = vm_node_struct(it, "previousState", NULL);
    vm_node_int(pv, "code", NULL, inst_state_code(prev));
    vm_node_str(pv, "name", NULL, inst_state_to_string(prev));
}

/* A launch (or a start) that failed in its job, its cause as the state reason, as on EC2. */
static void
job_failed(vm_ctx *ctx, const inst_obj *in, const char *kind, const vm_error *cause)
{
    vm_error ignore = { 0 };
    char why[1024];
    snprintf(why, sizeof(why), "Server.InternalError: %s", cause->msg);
    if (strcmp(kind, "start") == 0) {
        inst_set_state(ctx, in->id, INST_STOPPED, "Server.InternalError", why, 0, &ignore);
        return;
    }
    if (inst_teardown(ctx, in, true, &ignore) == 0) /* else it stays pending: reconcile finishes it */
        inst_set_state(ctx, in->id, INST_TERMINATED, "Server.InternalError", why, 0, &ignore);
}

/* One instance's part of a job (its lock held): a launch's disks, domain and start; a start; the
 * teardown of a terminate.  An instance no longer in the state the request left it in is done. */
static int
job_one(vm_ctx *ctx, const char *kind, const char *id, vm_error *err)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    if (inst_get(ctx, id, &in, err) < 0)
        return -1;
    int rc = 0;
    /* a domain that libvirt started is running: said at once rather than at reconcile's next round */
    if (strcmp(kind, "launch") == 0) {
        if (in->state == INST_PENDING && in->launch_step < INST_STEP_STARTED &&
            (rc = inst_launch_resume(ctx, in, err)) < 0)
            job_failed(ctx, in, kind, err);
        else if (rc == 0 && in->state == INST_PENDING)
            rc = inst_set_running_if_pending(ctx, in->id, err);
    } else if (strcmp(kind, "start") == 0) {
        if (in->state == INST_PENDING && (rc = inst_start_domain(ctx, in, err)) < 0)
            job_failed(ctx, in, kind, err);
        else if (rc == 0 && in->state == INST_PENDING)
            rc = inst_set_running_if_pending(ctx, in->id, err);
    } else if (strcmp(kind, "hibernate") == 0) {
        if (in->state != INST_STOPPING)
            return 0;
        if ((rc = inst_hibernate_domain(ctx, in, err)) == 0)
            rc = inst_set_state(ctx, in->id, INST_STOPPED, in->reason_code, in->reason, 0, err);
    } else if (strcmp(kind, "terminate") == 0) {
        if (in->state != INST_SHUTTING_DOWN)
            return 0;
        vm_crash_point("terminating");
        /* a teardown that fails leaves it shutting-down: reconcile takes it up again */
        if ((rc = inst_teardown(ctx, in, false, err)) == 0)
            rc = inst_set_state(ctx, in->id, INST_TERMINATED, in->reason_code, in->reason, 0, err);
    } else {
        rc = vm_error_set(err, VM_ERR_INTERNAL, "unknown instance job '%s'", kind);
    }
    return rc;
}

int
inst_terminate_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_get_ids(ctx, ids, n, &insts, err) < 0)
        return -1;
    return inst_terminate_list(ctx, insts, false, false, NULL, err);
}

int
inst_terminate_list(vm_ctx *ctx, inst_obj **insts, bool dry, bool protection, vm_node *list, vm_error *err)
{
    for (inst_obj **i = insts; protection && *i; i++)
        if ((*i)->disable_api_termination && (*i)->state != INST_TERMINATED)
            return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED,
                                "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance "
                                "attribute and try again.",
                                (*i)->id);
    if (dry)
        return vm_error_dry_run(err);
    /* each is marked shutting-down under its lock; the teardown (domain, files, addresses, filters)
     * is a job's, as on EC2 the answer is shutting-down and terminated comes later */
    locks held = { 0 };
    int rc = 0;
    for (inst_obj **i = insts; *i && rc == 0; i++) {
        const char *id = (*i)->id;
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        int fd = inst_lock(ctx, id, true, err);
        if (fd == -2) {
            /* another process works on it (a launch or a start in its job, a terminate under way):
             * not waited for.  The intent is recorded; that process tears it down when it sees it
             * (job_all), or reconcile does once the lock is free. */
            if ((rc = inst_get(ctx, id, &in, err)) < 0)
                break;
            inst_state prev = in->state;
            if (prev != INST_SHUTTING_DOWN && prev != INST_TERMINATED &&
                (rc = inst_set_state(ctx, id, INST_SHUTTING_DOWN, "Client.UserInitiatedShutdown",
                                     "User initiated shutdown", 0, err)) < 0)
                break;
            render_change(list, id, prev, prev == INST_TERMINATED ? prev : INST_SHUTTING_DOWN);
            continue;
        }
        if (fd < 0 || (rc = inst_get(ctx, id, &in, err)) < 0) {
            vm_lock_release(fd);
            rc = -1;
            break;
        }
        inst_state prev = in->state;
        if (prev == INST_TERMINATED) {
            vm_lock_release(fd);
            render_change(list, id, prev, prev);
            continue;
        }
        if (prev != INST_SHUTTING_DOWN)
            rc = inst_set_state(ctx, id, INST_SHUTTING_DOWN, "Client.UserInitiatedShutdown", "User initiated shutdown",
                                0, err);
        if (rc < 0 || locks_add(&held, id, fd, err) < 0) {
            if (rc < 0)
                vm_lock_release(fd);
            rc = -1;
            break;
        }
        render_change(list, id, prev, INST_SHUTTING_DOWN);
    }
    /* those marked are handed over even when a later one failed: shutting-down is a promise */
    vm_error ignore = { 0 };
    if (hand_over(ctx, "terminate", &held, rc < 0 ? &ignore : err) < 0)
        rc = -1;
    return rc;
}

int
inst_stop_ids(vm_ctx *ctx, const char *const *ids, size_t n, bool hibernate, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_get_ids(ctx, ids, n, &insts, err) < 0)
        return -1;
    return inst_stop_list(ctx, insts, false, false, hibernate, NULL, err);
}

int
inst_stop_list(vm_ctx *ctx, inst_obj **insts, bool dry, bool force, bool hibernate, vm_node *list, vm_error *err)
{
    for (inst_obj **i = insts; *i; i++) {
        if ((*i)->state == INST_TERMINATED || (*i)->state == INST_SHUTTING_DOWN)
            return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE,
                                "The instance '%s' is not in a state from which it can be stopped", (*i)->id);
        if ((*i)->disable_api_stop && (*i)->state != INST_STOPPED)
            return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED,
                                "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute "
                                "and try again.",
                                (*i)->id);
    }
    if (dry)
        return vm_error_dry_run(err);

    locks held = { 0 }; /* the hibernations, handed to a job */
    for (inst_obj **i = insts; *i; i++) {
        int fd = inst_lock(ctx, (*i)->id, false, err);
        if (fd < 0)
            return -1;
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        int rc = inst_get(ctx, (*i)->id, &in, err);
        inst_state prev = rc == 0 ? in->state : INST_STOPPED, cur = prev;
        if (rc == 0 && (in->state == INST_TERMINATED || in->state == INST_SHUTTING_DOWN))
            rc = vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE,
                              "The instance '%s' is not in a state from which it can be stopped", in->id);
        if (rc == 0 && in->state != INST_STOPPED) {
            int live = inst_domain_running(ctx, in->id, err);
            const char *code = "Client.UserInitiatedShutdown", *why = "User initiated shutdown";
            if (live < 0)
                rc = -1;
            else if (!live) {
                cur = INST_STOPPED;
            } else if (force) {
                rc = inst_domain_power_off(ctx, in->id, err);
                cur = INST_STOPPED;
            } else if (hibernate) {
                /* the guest's memory is saved by a job (libvirt's managed save, seconds); intent first */
                rc = inst_set_state(ctx, in->id, INST_STOPPING, "Client.UserInitiatedHibernate",
                                    "User initiated hibernate", time(NULL) + 600, err);
                if (rc == 0 && locks_add(&held, in->id, fd, err) < 0) {
                    rc = -1;
                    fd = -1; /* locks_add released it */
                } else if (rc == 0) {
                    render_change(list, in->id, prev, INST_STOPPING);
                    continue; /* the job has its lock */
                }
            } else {
                /* intent first: if we die now, reconcile still forces it off at the deadline */
                rc = inst_set_state(ctx, in->id, INST_STOPPING, code, why, time(NULL) + ctx->stop_timeout, err);
                if (rc == 0)
                    rc = inst_domain_shutdown(ctx, in->id, err);
                cur = INST_STOPPING;
            }
            if (rc == 0 && cur == INST_STOPPED)
                rc = inst_set_state(ctx, in->id, INST_STOPPED, code, why, 0, err);
        }
        vm_lock_release(fd);
        if (rc < 0) {
            vm_error ignore = { 0 };
            hand_over(ctx, "hibernate", &held, &ignore);
            return -1;
        }
        render_change(list, in->id, prev, cur);
    }
    return hand_over(ctx, "hibernate", &held, err);
}

int
inst_start_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_get_ids(ctx, ids, n, &insts, err) < 0)
        return -1;
    return inst_start_list(ctx, insts, false, NULL, err);
}

int
inst_start_list(vm_ctx *ctx, inst_obj **insts, bool dry, vm_node *list, vm_error *err)
{
    for (inst_obj **i = insts; *i; i++)
        if ((*i)->state != INST_STOPPED && (*i)->state != INST_RUNNING && (*i)->state != INST_PENDING)
            return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE,
                                "The instance '%s' is not in a state from which it can be started", (*i)->id);
    if (dry)
        return vm_error_dry_run(err);

    /* each is marked pending under its lock; the domain's start is a job's (a hibernated guest's
     * start restores its memory: libvirt's managed save) */
    locks held = { 0 };
    int rc = 0;
    for (inst_obj **i = insts; *i && rc == 0; i++) {
        int fd = inst_lock(ctx, (*i)->id, false, err);
        if (fd < 0) {
            rc = -1;
            break;
        }
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        rc = inst_get(ctx, (*i)->id, &in, err);
        inst_state prev = rc == 0 ? in->state : INST_STOPPED;
        if (rc == 0 && in->state == INST_STOPPED) {
            if (inst_set_state(ctx, in->id, INST_PENDING, "", "", 0, err) < 0) {
                vm_lock_release(fd);
                rc = -1;
                break;
            }
            if (locks_add(&held, in->id, fd, err) < 0) { /* it released fd */
                rc = -1;
                break;
            }
            render_change(list, in->id, prev, INST_PENDING);
            continue;
        } else if (rc == 0 && in->state != INST_RUNNING && in->state != INST_PENDING) {
            rc = vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE,
                              "The instance '%s' is not in a state from which it can be started", in->id);
        }
        if (rc == 0)
            render_change(list, in->id, prev, prev);
        vm_lock_release(fd);
    }
    vm_error ignore = { 0 };
    if (hand_over(ctx, "start", &held, rc < 0 ? &ignore : err) < 0)
        rc = -1;
    return rc;
}

int
inst_reboot_list(vm_ctx *ctx, inst_obj **insts, bool dry, vm_error *err)
{
    for (inst_obj **i = insts; *i; i++)
        if ((*i)->state != INST_RUNNING && (*i)->state != INST_PENDING)
            return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "The instance '%s' is not in a running state",
                                (*i)->id);
    if (dry)
        return vm_error_dry_run(err);
    for (inst_obj **i = insts; *i; i++)
        if (inst_domain_reboot(ctx, (*i)->id, err) < 0)
            return -1;
    return 0;
}

int
inst_reboot_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_get_ids(ctx, ids, n, &insts, err) < 0)
        return -1;
    return inst_reboot_list(ctx, insts, false, err);
}

int
inst_console_output(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    if (inst_get(ctx, id, &in, err) < 0)
        return -1;
    _cleanup_free_ char *buf = calloc(1, CONSOLE_MAX + 1);
    if (!buf)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_close_ int fd = open(in->console_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > CONSOLE_MAX)
            lseek(fd, st.st_size - CONSOLE_MAX, SEEK_SET);
        size_t len = 0;
        ssize_t n;
        while (len < CONSOLE_MAX && (n = read(fd, buf + len, CONSOLE_MAX - len)) > 0)
            len += (size_t)n;
        buf[len] = '\0';
        /* the serial log may hold NULs and other binary noise */
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
    } else if (errno != ENOENT) {
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot read the console of '%s'", id);
    }
    vm_node_str(resp, "instanceId", NULL, in->id);
    vm_node_time(resp, "timestamp", NULL, time(NULL));
    vm_node_base64(resp, "output", NULL, buf);
    return 0;
}
