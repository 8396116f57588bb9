/* Instance records in the store, and their EC2 rendering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/db.h"
#include "../../storage/volume.h"
#include "../core/tags.h"
#include "instance.h"
#include "../../net/net.h"
#include "types.h"

static const struct {
    const char *name;
    int code;
} states[INST_STATE__LAST] = {
    [INST_PENDING] = { "pending", 0 },        [INST_RUNNING] = { "running", 16 },
    [INST_SHUTTING_DOWN] = { "shutting-down", 32 }, [INST_TERMINATED] = { "terminated", 48 },
    [INST_STOPPING] = { "stopping", 64 },     [INST_STOPPED] = { "stopped", 80 },
};

const char *
inst_state_to_string(inst_state s)
{
    return s < INST_STATE__LAST ? states[s].name : "unknown";
}

int
inst_state_code(inst_state s)
{
    return s < INST_STATE__LAST ? states[s].code : -1;
}

int
inst_state_from_string(const char *name)
{
    for (int i = 0; i < INST_STATE__LAST; i++)
        if (strcmp(states[i].name, name) == 0)
            return i;
    return -1;
}

void
inst_obj_free(inst_obj *inst)
{
    if (!inst)
        return;
    free(inst->client_token);
    free(inst->reason);
    free(inst->reason_code);
    free(inst->disk_path);
    free(inst->console_path);
    free(inst->user_data);
    free(inst);
}

void
inst_list_free(inst_obj **list)
{
    if (!list)
        return;
    for (inst_obj **i = list; *i; i++)
        inst_obj_free(*i);
    free(list);
}

#define INST_SELECT                                                                                          \
    "SELECT i.id, i.reservation_id, i.image_id, i.instance_type, r.client_token, i.launch_index, i.state, "   \
    "i.launch_step, i.reason, i.reason_code, i.launched_at, i.changed_at, i.deadline, i.disk_path, "          \
    "i.console_path, i.disable_api_termination, i.disable_api_stop, i.shutdown_behavior, i.user_data, "        \
    "i.key_name, i.root_size, i.root_volume_id, i.md_tokens, i.md_endpoint, i.md_hop_limit, i.md_tags "    \
    "FROM instances i JOIN reservations r ON r.id = i.reservation_id "

static inst_obj *
inst_from_row(sqlite3_stmt *st)
{
    inst_obj *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    snprintf(in->id, sizeof(in->id), "%s", vm_db_text(st, 0));
    snprintf(in->reservation_id, sizeof(in->reservation_id), "%s", vm_db_text(st, 1));
    snprintf(in->image_id, sizeof(in->image_id), "%s", vm_db_text(st, 2));
    snprintf(in->instance_type, sizeof(in->instance_type), "%s", vm_db_text(st, 3));
    in->client_token = strdup(vm_db_text(st, 4));
    in->launch_index = sqlite3_column_int(st, 5);
    in->state = (inst_state)sqlite3_column_int(st, 6);
    in->launch_step = sqlite3_column_int(st, 7);
    in->reason = strdup(vm_db_text(st, 8));
    in->reason_code = strdup(vm_db_text(st, 9));
    in->launched_at = sqlite3_column_int64(st, 10);
    in->changed_at = sqlite3_column_int64(st, 11);
    in->deadline = sqlite3_column_int64(st, 12);
    in->disk_path = strdup(vm_db_text(st, 13));
    in->console_path = strdup(vm_db_text(st, 14));
    in->disable_api_termination = sqlite3_column_int(st, 15);
    in->disable_api_stop = sqlite3_column_int(st, 16);
    snprintf(in->shutdown_behavior, sizeof(in->shutdown_behavior), "%s", vm_db_text(st, 17));
    in->user_data = strdup(vm_db_text(st, 18));
    snprintf(in->key_name, sizeof(in->key_name), "%s", vm_db_text(st, 19));
    in->root_size = (unsigned long long)sqlite3_column_int64(st, 20);
    snprintf(in->root_volume_id, sizeof(in->root_volume_id), "%s", vm_db_text(st, 21));
    snprintf(in->md.tokens, sizeof(in->md.tokens), "%s", vm_db_text(st, 22));
    snprintf(in->md.endpoint, sizeof(in->md.endpoint), "%s", vm_db_text(st, 23));
    in->md.hop_limit = sqlite3_column_int(st, 24);
    snprintf(in->md.tags, sizeof(in->md.tags), "%s", vm_db_text(st, 25));
    if (!in->client_token || !in->reason || !in->reason_code || !in->disk_path || !in->console_path || !in->user_data) {
        inst_obj_free(in);
        return NULL;
    }
    return in;
}

int
inst_get(vm_ctx *ctx, const char *id, inst_obj **ret, vm_error *err)
{
    if (!vm_id_valid(id, "i"))
        return vm_error_set(err, VM_ERR_INSTANCE_MALFORMED, "Invalid id: \"%s\"", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, INST_SELECT "WHERE i.id = ?", "t", id) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return vm_error_set(err, VM_ERR_INSTANCE_NOT_FOUND, "The instance ID '%s' does not exist", id);
    if (rc != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading instance", err);
    if (!(*ret = inst_from_row(st)))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

int
inst_list(vm_ctx *ctx, const char *reservation_id, inst_obj ***ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   INST_SELECT "WHERE ?1 IS NULL OR i.reservation_id = ?1 "
                   "ORDER BY i.launched_at, i.reservation_id, i.launch_index",
                   "t", reservation_id) < 0)
        return -1;
    size_t n = 0, cap = 16;
    _cleanup_(inst_list_freep) inst_obj **list = calloc(cap + 1, sizeof(inst_obj *));
    if (!list)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            inst_obj **nl = realloc(list, (cap * 2 + 1) * sizeof(inst_obj *));
            if (!nl)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            list = nl;
            cap *= 2;
        }
        if (!(list[n] = inst_from_row(st)))
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        list[++n] = NULL;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "listing instances", err);
    *ret = TAKE_PTR(list);
    return 0;
}

int
inst_set_state(vm_ctx *ctx, const char *id, inst_state s, const char *reason_code, const char *reason,
               time_t deadline, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE instances SET state = ?, reason_code = ?, reason = ?, deadline = ?, "
                   "changed_at = strftime('%s','now') WHERE id = ?",
                   "ittit", (long long)s, reason_code ? reason_code : "", reason ? reason : "", (long long)deadline,
                   id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving instance state", err);
    return 0;
}

int
inst_set_running_if_pending(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE instances SET state = ?1, reason_code = '', reason = '', deadline = 0, "
                   "changed_at = strftime('%s','now') WHERE id = ?3 AND state = ?2",
                   "iit", (long long)INST_RUNNING, (long long)INST_PENDING, id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving instance state", err);
    return 0;
}

int
inst_set_step(vm_ctx *ctx, const char *id, int step, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE instances SET launch_step = ? WHERE id = ?", "it", (long long)step,
                   id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving launch step", err);
    return 0;
}

int
inst_get_ids(vm_ctx *ctx, const char *const *ids, size_t n, inst_obj ***ret, vm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!vm_id_valid(ids[i], "i"))
            return vm_error_set(err, VM_ERR_INSTANCE_MALFORMED, "Invalid id: \"%s\"", ids[i]);
    _cleanup_(inst_list_freep) inst_obj **list = calloc(n + 1, sizeof(inst_obj *));
    if (!list)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < m; j++)
            dup |= strcmp(list[j]->id, ids[i]) == 0;
        if (dup)
            continue;
        if (inst_get(ctx, ids[i], &list[m], err) < 0)
            return -1;
        m++;
    }
    *ret = TAKE_PTR(list);
    return 0;
}

int
inst_render(vm_ctx *ctx, vm_node *it, const inst_obj *in, vm_error *err)
{
    vm_node_str(it, "instanceId", NULL, in->id);
    vm_node_str(it, "imageId", NULL, in->image_id);
    vm_node *st = vm_node_struct(it, "instanceState", "State");
    vm_node_int(st, "code", NULL, inst_state_code(in->state));
    vm_node_str(st, "name", NULL, inst_state_to_string(in->state));
    vm_node_str(it, "reason", "StateTransitionReason", in->reason);
    if (in->key_name[0])
        vm_node_str(it, "keyName", NULL, in->key_name);
    if (in->reason_code[0]) {
        vm_node *sr = vm_node_struct(it, "stateReason", NULL);
        vm_node_str(sr, "code", NULL, in->reason_code);
        vm_node_str(sr, "message", NULL, in->reason);
    }
    vm_node_int(it, "amiLaunchIndex", NULL, in->launch_index);
    vm_node_list(it, "productCodes", NULL);
    vm_node_str(it, "instanceType", NULL, in->instance_type);
    vm_node_time(it, "launchTime", NULL, in->launched_at);
    vm_node *pl = vm_node_struct(it, "placement", NULL);
    char zone[40];
    net_instance_zone(ctx, in->id, zone);
    vm_node_str(pl, "availabilityZone", NULL, zone);
    vm_node_str(pl, "groupName", NULL, "");
    vm_node_str(pl, "tenancy", NULL, "default");
    vm_node_str(vm_node_struct(it, "monitoring", NULL), "state", NULL, "disabled");
    if (net_instance_render(ctx, it, in->id, err) < 0) /* addresses, subnet, VPC, groups, interfaces */
        return -1;
    vm_node_str(it, "architecture", NULL, "x86_64");
    vm_node_str(it, "rootDeviceType", NULL, "ebs");
    vm_node_str(it, "rootDeviceName", NULL, "/dev/vda");
    if (vol_render_mappings(ctx, vm_node_list(it, "blockDeviceMapping", "BlockDeviceMappings"), in->id, err) < 0)
        return -1;
    vm_node_str(it, "virtualizationType", NULL, "hvm");
    vm_node_str(it, "clientToken", NULL, in->client_token);
    /* what really runs it: KVM, or QEMU's TCG emulation */
    vm_node_str(it, "hypervisor", NULL, strcmp(ctx->accel, "kvm") == 0 ? "kvm" : "qemu");
    vm_node_bool(it, "ebsOptimized", NULL, false);
    vm_node_bool(it, "enaSupport", NULL, true);
    if (vm_tags_render(ctx, it, in->id, err) < 0)
        return -1;
    const inst_type *t = inst_type_find(in->instance_type);
    if (t) {
        vm_node *cpu = vm_node_struct(it, "cpuOptions", NULL);
        vm_node_int(cpu, "coreCount", NULL, t->vcpus);
        vm_node_int(cpu, "threadsPerCore", NULL, 1);
    }
    /* what EC2 returns for every instance, so that tools read them without fallbacks */
    vm_node_str(vm_node_struct(it, "capacityReservationSpecification", NULL), "capacityReservationPreference", NULL,
                "open");
    vm_node_bool(vm_node_struct(it, "hibernationOptions", NULL), "configured", NULL, false);
    inst_render_md(it, "metadataOptions", &in->md, in->state == INST_PENDING ? "pending" : "applied");
    vm_node_bool(vm_node_struct(it, "enclaveOptions", NULL), "enabled", NULL, false);
    vm_node_str(it, "platformDetails", NULL, "Linux/UNIX");
    vm_node_str(it, "usageOperation", NULL, "RunInstances");
    vm_node_time(it, "usageOperationUpdateTime", NULL, in->launched_at);
    vm_node *dns = vm_node_struct(it, "privateDnsNameOptions", NULL);
    vm_node_str(dns, "hostnameType", NULL, "ip-name");
    vm_node_bool(dns, "enableResourceNameDnsARecord", NULL, false);
    vm_node_bool(dns, "enableResourceNameDnsAAAARecord", NULL, false);
    vm_node_str(vm_node_struct(it, "maintenanceOptions", NULL), "autoRecovery", NULL, "default");
    return 0;
}

int
inst_render_reservation(vm_ctx *ctx, vm_node *parent, const char *reservation_id, inst_obj **insts, vm_error *err)
{
    vm_node_str(parent, "reservationId", NULL, reservation_id);
    vm_node_str(parent, "ownerId", NULL, ctx->account_id);
    vm_node_list(parent, "groupSet", "Groups");
    vm_node *list = vm_node_list(parent, "instancesSet", "Instances");
    for (inst_obj **i = insts; *i; i++)
        if (inst_render(ctx, vm_node_item(list), *i, err) < 0)
            return -1;
    return 0;
}

void
inst_render_md(vm_node *parent, const char *name, const inst_md_opts *md, const char *state)
{
    vm_node *m = vm_node_struct(parent, name, NULL);
    vm_node_str(m, "state", NULL, state);
    vm_node_str(m, "httpTokens", NULL, md->tokens);
    vm_node_int(m, "httpPutResponseHopLimit", NULL, md->hop_limit);
    vm_node_str(m, "httpEndpoint", NULL, md->endpoint);
    vm_node_str(m, "httpProtocolIpv6", NULL, "disabled");
    vm_node_str(m, "instanceMetadataTags", NULL, md->tags);
}

int
inst_set_metadata_options(vm_ctx *ctx, const char *id, const inst_md_opts *md, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE instances SET md_tokens = ?, md_endpoint = ?, md_hop_limit = ?, md_tags = ? WHERE id = ?",
                   "ttitt", md->tokens, md->endpoint, (long long)md->hop_limit, md->tags, id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the metadata options", err);
    return 0;
}

void
inst_datasource(vm_ctx *ctx, const char *id, char buf[16])
{
    snprintf(buf, 16, "both");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT value FROM tags WHERE resource_id = ? AND key = '" INST_DATASOURCE_TAG "'", "t", id) < 0)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && inst_datasource_check(vm_db_text(st, 0), &ignore) == 0)
        snprintf(buf, 16, "%s", vm_db_text(st, 0));
}

int
inst_datasource_check(const char *value, vm_error *err)
{
    if (strcmp(value, "config-drive") == 0 || strcmp(value, "imds") == 0 || strcmp(value, "both") == 0)
        return 0;
    return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                        "The value '%s' of tag " INST_DATASOURCE_TAG " is not valid. Valid values are config-drive, "
                        "imds, both",
                        value);
}

int
inst_using_image(vm_ctx *ctx, const char *image_id, char instance_id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM instances WHERE image_id = ? AND state != ? LIMIT 1", "ti",
                   image_id, (long long)INST_TERMINATED) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(instance_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading instances", err);
}

int
inst_forget(vm_ctx *ctx, const char *id, vm_error *err)
{
    if (vm_db_run(ctx->db, err, "DELETE FROM instances WHERE id = ?", "t", id) < 0)
        return -1;
    return vm_tags_drop(ctx, id, err);
}

int
inst_adopt_record(vm_ctx *ctx, const inst_adoption *a, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    const char *root = a->root_volume_id ? a->root_volume_id : "";
    _cleanup_stmt_ sqlite3_stmt *known = NULL;
    int have_vol = 1;
    if (*root) {
        if (vm_db_stmt(ctx->db, &known, err, "SELECT 1 FROM volumes WHERE id = ?", "t", root) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
        have_vol = sqlite3_step(known) == SQLITE_ROW;
    }
    if (vm_db_run(ctx->db, err,
                  "INSERT OR IGNORE INTO reservations (id, request, created_at) VALUES (?, '', strftime('%s','now'))",
                  "t", a->reservation_id) < 0 ||
        vm_db_run(ctx->db, err,
                  "INSERT INTO instances (id, reservation_id, image_id, instance_type, launch_index, state, "
                  "launch_step, reason, launched_at, changed_at, disk_path, console_path, root_volume_id) VALUES "
                  "(?, ?, ?, ?, 0, ?, 3, 'adopted from libvirt', strftime('%s','now'), strftime('%s','now'), ?, ?, ?)",
                  "ttttittt", a->id, a->reservation_id, a->image_id, a->type,
                  (long long)(a->running ? INST_RUNNING : INST_STOPPED), a->disk_path, a->console_path, root) < 0 ||
        (!have_vol && vol_root_record(ctx, root, a->id, a->disk_path, a->root_gib, true, a->image_id, err) < 0)) {
        vm_error_set(err, VM_ERR_INTERNAL, "adopting domain '%s'", a->id);
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}
