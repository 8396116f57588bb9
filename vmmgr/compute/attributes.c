/* DescribeInstanceAttribute and ModifyInstanceAttribute: the read-back Terraform's AWS provider
 * depends on, answered from the record, and the few attributes that can change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/db.h"
#include "../core/lock.h"
#include "../../storage/volume.h"
#include "instance.h"
#include "../../net/net.h"
#include "types.h"


static void
value_str(vm_node *resp, const char *name, const char *jname, const char *v)
{
    vm_node *n = vm_node_struct(resp, name, jname);
    if (v && *v)
        vm_node_str(n, "value", NULL, v);
}

static void
value_bool(vm_node *resp, const char *name, const char *jname, bool v)
{
    vm_node_bool(vm_node_struct(resp, name, jname), "value", NULL, v);
}

int
inst_describe_attribute(vm_ctx *ctx, const char *id, const char *attr, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    if (inst_get(ctx, id, &in, err) < 0)
        return -1;
    vm_node_str(resp, "instanceId", NULL, in->id);
    if (strcmp(attr, "instanceType") == 0)
        value_str(resp, "instanceType", NULL, in->instance_type);
    else if (strcmp(attr, "kernel") == 0)
        value_str(resp, "kernel", "KernelId", NULL);
    else if (strcmp(attr, "ramdisk") == 0)
        value_str(resp, "ramdisk", "RamdiskId", NULL);
    else if (strcmp(attr, "userData") == 0)
        value_str(resp, "userData", NULL, in->user_data);
    else if (strcmp(attr, "disableApiTermination") == 0)
        value_bool(resp, "disableApiTermination", NULL, in->disable_api_termination);
    else if (strcmp(attr, "disableApiStop") == 0)
        value_bool(resp, "disableApiStop", NULL, in->disable_api_stop);
    else if (strcmp(attr, "instanceInitiatedShutdownBehavior") == 0)
        value_str(resp, "instanceInitiatedShutdownBehavior", NULL, in->shutdown_behavior);
    else if (strcmp(attr, "rootDeviceName") == 0)
        value_str(resp, "rootDeviceName", NULL, "/dev/vda");
    else if (strcmp(attr, "blockDeviceMapping") == 0) {
        if (vol_render_mappings(ctx, vm_node_list(resp, "blockDeviceMapping", "BlockDeviceMappings"), in->id, err) < 0)
            return -1;
    }
    else if (strcmp(attr, "productCodes") == 0)
        vm_node_list(resp, "productCodes", NULL);
    else if (strcmp(attr, "groupSet") == 0) {
        vm_node *tmp = vm_node_new_root("x");
        if (!tmp || net_instance_render(ctx, tmp, in->id, err) < 0) {
            vm_node_free(tmp);
            return -1;
        }
        vm_node *list = vm_node_list(resp, "groupSet", "Groups");
        for (vm_node *g = vm_node_child(tmp, "groupSet")->first; g; g = g->next) {
            vm_node *it = vm_node_item(list);
            vm_node_str(it, "groupId", NULL, vm_node_child(g, "groupId")->str);
            vm_node_str(it, "groupName", NULL, vm_node_child(g, "groupName")->str);
        }
        vm_node_free(tmp);
    }
    else if (strcmp(attr, "sourceDestCheck") == 0)
        value_bool(resp, "sourceDestCheck", NULL, true);
    else if (strcmp(attr, "ebsOptimized") == 0)
        value_bool(resp, "ebsOptimized", NULL, false);
    else if (strcmp(attr, "enaSupport") == 0)
        value_bool(resp, "enaSupport", NULL, false);
    else if (strcmp(attr, "sriovNetSupport") == 0)
        value_str(resp, "sriovNetSupport", NULL, NULL);
    else if (strcmp(attr, "enclaveOptions") == 0)
        vm_node_bool(vm_node_struct(resp, "enclaveOptions", NULL), "enabled", NULL, false);
    else
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter attribute is invalid. "
                            "Unknown attribute.", attr);
    return 0;
}

static int
set_column(vm_ctx *ctx, const char *id, const char *sql, const char *text, int num, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc = text ? vm_db_stmt(ctx->db, &st, err, sql, "tt", text, id)
                  : vm_db_stmt(ctx->db, &st, err, sql, "it", (long long)num, id);
    if (rc < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "saving instance attribute", err);
    return 0;
}

/* A new type takes a new definition: the domain is stopped, so undefine and define it again. */
static int
change_type(vm_ctx *ctx, inst_obj *in, const char *type, vm_error *err)
{
    if (!inst_type_find(type))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "The instance type '%s' does not exist", type);
    if (in->state != INST_STOPPED)
        return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "The instance '%s' is not in the 'stopped' state",
                            in->id);
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    if (set_column(ctx, in->id, "UPDATE instances SET instance_type = ? WHERE id = ?", type, 0, err) < 0)
        return -1;
    snprintf(in->instance_type, sizeof(in->instance_type), "%s", type);
    /* if we die in between, reconcile defines it again from the record, with the new type */
    return inst_redefine(ctx, in, err);
}

/* Each device's DeleteOnTermination: all or nothing */
static int
set_delete_on_termination(vm_ctx *ctx, const char *id, const inst_bdm_flag *bdms, size_t n, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = vol_set_delete_on_termination(ctx, id, bdms[i].device, bdms[i].delete_on_termination, err);
    if (rc == 0)
        return vm_db_commit(ctx->db, err);
    vm_db_rollback(ctx->db);
    return -1;
}

int
inst_modify_attribute(vm_ctx *ctx, const char *id, const inst_attr_change *c, vm_error *err)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    if (inst_get(ctx, id, &in, err) < 0)
        return -1;
    if (in->state == INST_TERMINATED || in->state == INST_SHUTTING_DOWN)
        return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "The instance '%s' is terminated", id);
    if (c->what == INST_ATTR_SHUTDOWN_BEHAVIOR && strcmp(c->value, "stop") != 0 && strcmp(c->value, "terminate") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "InstanceInitiatedShutdownBehavior must be 'stop' or 'terminate', not '%s'", c->value);
    if (ctx->dry_run)
        return vm_error_dry_run(err);

    int fd = inst_lock(ctx, id, false, err);
    if (fd < 0)
        return -1;
    int rc;
    switch (c->what) {
    case INST_ATTR_DISABLE_API_TERMINATION:
        rc = set_column(ctx, id, "UPDATE instances SET disable_api_termination = ? WHERE id = ?", NULL, c->flag, err);
        break;
    case INST_ATTR_DISABLE_API_STOP:
        rc = set_column(ctx, id, "UPDATE instances SET disable_api_stop = ? WHERE id = ?", NULL, c->flag, err);
        break;
    case INST_ATTR_SHUTDOWN_BEHAVIOR:
        rc = set_column(ctx, id, "UPDATE instances SET shutdown_behavior = ? WHERE id = ?", c->value, 0, err);
        break;
    case INST_ATTR_GROUPS: /* the running guest's filter changes at once */
        rc = net_instance_set_groups(ctx, id, c->group_ids, c->ngroups, err);
        break;
    case INST_ATTR_DELETE_ON_TERMINATION:
        rc = set_delete_on_termination(ctx, id, c->bdms, c->nbdms, err);
        break;
    case INST_ATTR_TYPE: {
        _cleanup_(inst_obj_freep) inst_obj *fresh = NULL;
        rc = inst_get(ctx, id, &fresh, err);
        if (rc == 0)
            rc = change_type(ctx, fresh, c->value, err);
        break;
    }
    default:
        rc = vm_error_set(err, VM_ERR_INTERNAL, "unknown attribute change %d", (int)c->what);
    }
    vm_lock_release(fd);
    return rc;
}
