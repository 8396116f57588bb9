/* Instances: the EC2 view (the store) of one libvirt domain each.
 *
 * Every change is written to the store before its first side effect (the intent), so a process
 * killed at any point leaves a record that reconcile can finish: a launch rolls forward through
 * its steps (disk, defined, started); a terminate in shutting-down completes.  An operation in
 * progress holds the instance's lock (<state-dir>/locks/<id>.lock), which dies with its process;
 * reconcile only touches instances whose lock it can take. */
#pragma once

#include <time.h>

#include "../core/ctx.h"
#include "../core/ids.h"
#include "../core/node.h"
#include "../core/filter.h"
#include "../core/tags.h"
#include "../../net/net.h"
#include "../../storage/volume.h"

typedef enum inst_state {
    INST_PENDING,
    INST_RUNNING,
    INST_SHUTTING_DOWN,
    INST_TERMINATED,
    INST_STOPPING,
    INST_STOPPED,
    INST_STATE__LAST
} inst_state;

/* EC2 name ("running") and code (16) of a state. */
const char *inst_state_to_string(inst_state s);
int inst_state_code(inst_state s);
/* The state called name, or -1. */
int inst_state_from_string(const char *name);

typedef enum inst_step {
    INST_STEP_RECORDED = 0,
    INST_STEP_DISK = 1,
    INST_STEP_DEFINED = 2,
    INST_STEP_STARTED = 3,
} inst_step;

/* MetadataOptions (EC2's names and values): HttpTokens optional|required, HttpEndpoint
 * enabled|disabled, HttpPutResponseHopLimit 1-64, InstanceMetadataTags enabled|disabled. */
typedef struct inst_md_opts {
    char tokens[16], endpoint[16], tags[16];
    int hop_limit;
} inst_md_opts;
#define INST_MD_DEFAULT ((inst_md_opts){ "optional", "enabled", "disabled", 1 })

typedef struct inst_obj {
    char id[VM_ID_MAX];
    char reservation_id[VM_ID_MAX];
    char image_id[VM_ID_MAX];
    char instance_type[32];
    char *client_token;
    int launch_index;
    inst_state state;
    int launch_step;
    char *reason, *reason_code;
    time_t launched_at, changed_at, deadline;
    char *disk_path, *console_path;
    bool disable_api_termination, disable_api_stop;
    char shutdown_behavior[16]; /* "stop" or "terminate": what a guest-initiated power-off means */
    char *user_data;            /* as given, base64 */
    char key_name[256];         /* "" when launched without a key pair */
    unsigned long long root_size; /* bytes; 0: the image's size */
    char root_volume_id[VM_ID_MAX]; /* the EBS volume that is its root disk ("" for older records) */
    inst_md_opts md;                /* MetadataOptions: what the metadata service (imds/) allows it */
} inst_obj;

void inst_obj_free(inst_obj *inst);
VM_DEFINE_CLEANUP(inst_obj *, inst_obj_free)
void inst_list_free(inst_obj **list);
VM_DEFINE_CLEANUP(inst_obj **, inst_list_free)

/* Loads one instance: InvalidInstanceID.Malformed / .NotFound. */
int inst_get(vm_ctx *ctx, const char *id, inst_obj **ret, vm_error *err);
/* All instances (reservation_id NULL) or those of one reservation, NULL-terminated, in launch order. */
int inst_list(vm_ctx *ctx, const char *reservation_id, inst_obj ***ret, vm_error *err);
/* A terminated instance forgotten: its record and its tags. */
int inst_forget(vm_ctx *ctx, const char *id, vm_error *err);
/* The record of a domain of ours that the store does not know (reconcile's adoption), with its
 * reservation, and its root volume's when the store lacks that too; one transaction. */
typedef struct inst_adoption {
    const char *id, *reservation_id, *image_id, *type;
    bool running;
    const char *disk_path, *console_path;
    const char *root_volume_id; /* "" or NULL: an instance-store root */
    long root_gib;
} inst_adoption;
int inst_adopt_record(vm_ctx *ctx, const inst_adoption *a, vm_error *err);
/* Records a new state (and reason, deadline); changed_at is set to now. */
int inst_set_state(vm_ctx *ctx, const char *id, inst_state s, const char *reason_code, const char *reason,
                   time_t deadline, vm_error *err);
int inst_set_step(vm_ctx *ctx, const char *id, int step, vm_error *err);
/* pending → running, unless something else (a terminate) changed the state meanwhile. */
int inst_set_running_if_pending(vm_ctx *ctx, const char *id, vm_error *err);

/* Loads every instance of ids (valid ids, each once): all exist or nothing happens. */
int inst_get_ids(vm_ctx *ctx, const char *const *ids, size_t n, inst_obj ***ret, vm_error *err);

/* Appends the EC2 Instance shape of inst to item. */
int inst_render(vm_ctx *ctx, vm_node *item, const inst_obj *inst, vm_error *err);
/* Appends a Reservation (reservationId, ownerId, groupSet, instancesSet) holding insts. */
int inst_render_reservation(vm_ctx *ctx, vm_node *parent, const char *reservation_id, inst_obj **insts,
                            vm_error *err);

/* The domain side.  Each takes the instance's lock itself unless noted. */
/* Drives a launch from its recorded step to started (lock held by the caller). */
int inst_launch_resume(vm_ctx *ctx, inst_obj *inst, vm_error *err);
/* Destroys and undefines the domain and removes the instance's files (lock held by the caller).
 * The root volume goes too when it is to be deleted on termination or discard is true (a launch
 * that failed); otherwise it stays, available. */
int inst_teardown(vm_ctx *ctx, const inst_obj *inst, bool discard, vm_error *err);
/* The volume disk d into domain iid: its definition, and the running guest too (a hotplug). */
int inst_domain_attach_disk(vm_ctx *ctx, const char *iid, const vol_disk *d, vm_error *err);
/* The disk at d->target out of domain iid's definition, and the running guest asked to let it go
 * when ask (an asynchronous unplug): 1 while the running guest still has it, 0 when it does not
 * (or there is no domain), -1 on error. */
int inst_domain_detach_disk(vm_ctx *ctx, const char *iid, const vol_disk *d, bool ask, vm_error *err);
/* Where the instance's config drive lives. */
void inst_cidata_path(vm_ctx *ctx, const inst_obj *inst, char *buf, size_t len);
/* Starts the domain of a stopped instance, defining it again from the record if it went (lock
 * held by the caller). */
int inst_start_domain(vm_ctx *ctx, const inst_obj *inst, vm_error *err);
/* A job's part of an action on instances (vmmgr/core/job.h): kind "launch", "start" or
 * "terminate"; ids and the inherited lock descriptors fds as comma-separated lists. */
int inst_job(vm_ctx *ctx, const char *kind, char *ids, char *fds, vm_error *err);
/* Defines the domain of inst from its record (lock held by the caller). */
int inst_define(vm_ctx *ctx, const inst_obj *inst, vm_error *err);
/* The running state of domain id (1 running, 0 not) and the power buttons of StopInstances and
 * RebootInstances; InternalError when the instance has no domain (reconcile defines it again). */
int inst_domain_running(vm_ctx *ctx, const char *id, vm_error *err);
int inst_domain_power_off(vm_ctx *ctx, const char *id, vm_error *err);
int inst_domain_shutdown(vm_ctx *ctx, const char *id, vm_error *err);
int inst_domain_reboot(vm_ctx *ctx, const char *id, vm_error *err);
/* For CreateImage: the guest shut down (ACPI, forced after the stop timeout), 1 when it was
 * running; and started again after the copy. */
int inst_domain_quiesce(vm_ctx *ctx, const char *id, vm_error *err);
int inst_domain_restart(vm_ctx *ctx, const char *id, vm_error *err);
/* The definition made again from inst (a stopped instance's new type): undefined, then defined. */
int inst_redefine(vm_ctx *ctx, const inst_obj *inst, vm_error *err);
/* The instance's lock: fd, -2 when another process holds it (nonblock), -1 on error. */
int inst_lock(vm_ctx *ctx, const char *id, bool nonblock, vm_error *err);

/* A launch, as any service asks for one (EC2's RunInstances, an Auto Scaling group): typed, checked
 * against the store by inst_run_start.  NULL or 0 fields take EC2's defaults. */
typedef struct inst_block_device {
    const char *device_name;
    long volume_size_gib; /* 0: the image's size */
    int delete_on_termination; /* 1, 0, or -1 for the default (true) */
} inst_block_device;

typedef struct inst_run_req {
    const char *image_id;
    const char *instance_type;     /* NULL: t3.micro */
    long min_count, max_count;
    const char *client_token;      /* NULL: not idempotent */
    const char *request;           /* what identifies the request for its token (the edge's canonical form) */
    bool disable_api_termination, disable_api_stop;
    const char *shutdown_behavior; /* "stop" (NULL) or "terminate" */
    const char *key_name;
    const char *user_data;         /* base64 */
    const vm_tag *tags;            /* for the instances */
    size_t ntags;
    const inst_block_device *block_devices;
    size_t nblock_devices;
    net_launch_req net;
    inst_md_opts md;
    bool dry_run;
} inst_run_req;

#define INST_RUN_MAX_COUNT 20

/* Records a reservation for req (or finds the one its client token made) and hands the launch to a
 * job; ret_rid is the reservation.  The instances are pending. */
int inst_run_start(vm_ctx *ctx, const inst_run_req *req, char ret_rid[VM_ID_MAX], vm_error *err);
/* The reservation rid as RunInstances answers it. */
int inst_render_run(vm_ctx *ctx, vm_node *resp, const char *rid, vm_error *err);

/* Actions. */
/* TerminateInstances typed: insts marked shutting-down and handed to a job; list (NULL: none) gets
 * each one's state change; protection: termination protection refuses (OperationNotPermitted).
 * inst_terminate_ids (Auto Scaling's, which termination protection does not stop, as on AWS) loads
 * them first: all exist or nothing happens. */
int inst_terminate_list(vm_ctx *ctx, inst_obj **insts, bool dry, bool protection, vm_node *list, vm_error *err);
int inst_terminate_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err);
/* StopInstances and StartInstances typed (as inst_terminate_list).  hibernate: the guest's memory is
 * saved (libvirt's managed save, by a job) and the next start resumes it where it was. */
int inst_stop_list(vm_ctx *ctx, inst_obj **insts, bool dry, bool force, bool hibernate, vm_node *list, vm_error *err);
int inst_stop_ids(vm_ctx *ctx, const char *const *ids, size_t n, bool hibernate, vm_error *err);
int inst_start_list(vm_ctx *ctx, inst_obj **insts, bool dry, vm_node *list, vm_error *err);
int inst_start_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err);
/* RebootInstances typed: ACPI, then a reset for a guest that ignores it; running or pending only. */
int inst_reboot_list(vm_ctx *ctx, inst_obj **insts, bool dry, vm_error *err);
int inst_reboot_ids(vm_ctx *ctx, const char *const *ids, size_t n, vm_error *err);
/* Saves a running domain's memory and stops it (lock held by the caller). */
int inst_hibernate_domain(vm_ctx *ctx, const inst_obj *inst, vm_error *err);
/* DescribeInstances: the instances named (each must exist; none: all) that pass the filters. */
int inst_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp, vm_error *err);
/* GetConsoleOutput: the last of the guest's serial console, base64 as EC2 gives it. */
int inst_console_output(vm_ctx *ctx, const char *id, vm_node *resp, vm_error *err);
/* AttachVolume: the volume (available, in the instance's zone) at device, hotplugged into a running
 * guest; DetachVolume: unplugged (detaching until the guest lets go; force: available at once);
 * instance_id, device: NULL, or what the attachment must be.  Both answer the attachment. */
int inst_attach_volume(vm_ctx *ctx, const char *volume_id, const char *instance_id, const char *device,
                       vm_node *resp, vm_error *err);
int inst_detach_volume(vm_ctx *ctx, const char *volume_id, const char *instance_id, const char *device, bool force,
                       vm_node *resp, vm_error *err);
/* CreateImage answers the pending image at once; the "image" job (vmmgr/core/job.h) shuts the
 * guest down unless no_reboot, copies its disk and makes the image available
 * (inst_create_image_finish). */
int inst_create_image(vm_ctx *ctx, const char *instance_id, const char *name, const char *description,
                      bool no_reboot, vm_node *resp, vm_error *err);
int inst_create_image_finish(vm_ctx *ctx, const char *image_id, vm_error *err);
/* A living (not terminated) instance of image_id: 1 with its id, 0 when none. */
int inst_using_image(vm_ctx *ctx, const char *image_id, char instance_id[VM_ID_MAX], vm_error *err);
/* DescribeInstanceAttribute: one attribute (attr, as EC2 names it) of the instance into resp. */
int inst_describe_attribute(vm_ctx *ctx, const char *id, const char *attr, vm_node *resp, vm_error *err);
/* ModifyInstanceAttribute: one change at a time, to an instance that is not (being) terminated. */
typedef struct inst_bdm_flag {
    const char *device; /* the root device or an attached volume's */
    bool delete_on_termination;
} inst_bdm_flag;
typedef struct inst_attr_change {
    enum {
        INST_ATTR_DISABLE_API_TERMINATION,
        INST_ATTR_DISABLE_API_STOP,
        INST_ATTR_SHUTDOWN_BEHAVIOR, /* value: stop or terminate */
        INST_ATTR_TYPE,              /* value: the type; the instance stopped */
        INST_ATTR_GROUPS,            /* the interface's groups, at once on a running guest */
        INST_ATTR_DELETE_ON_TERMINATION,
    } what;
    bool flag;
    const char *value;
    const char *const *group_ids;
    size_t ngroups;
    const inst_bdm_flag *bdms;
    size_t nbdms;
} inst_attr_change;
int inst_modify_attribute(vm_ctx *ctx, const char *id, const inst_attr_change *c, vm_error *err);
/* Where an instance's guest finds its metadata: tag vmmgr:datasource (INST_DATASOURCE_TAG) is
 * "config-drive" (the NoCloud drive only), "imds" (the metadata service only: no drive, and the
 * SMBIOS strings of an EC2 instance that make cloud-init use it) or "both" (the default). */
#define INST_DATASOURCE_TAG "vmmgr:datasource"
void inst_datasource(vm_ctx *ctx, const char *id, char buf[16]);
/* InvalidParameterValue unless value is one of those. */
int inst_datasource_check(const char *value, vm_error *err);
/* ModifyInstanceMetadataOptions typed: records md for the instance (the metadata service reads it
 * at its next request). */
int inst_set_metadata_options(vm_ctx *ctx, const char *id, const inst_md_opts *md, vm_error *err);
/* An instance's metadataOptions as EC2 renders them (state: "applied" or "pending"). */
void inst_render_md(vm_node *parent, const char *name, const inst_md_opts *md, const char *state);

/* Repairs drift between the store and libvirt (see reconcile.c).  Never starts a stopped guest. */
int inst_reconcile(vm_ctx *ctx, vm_error *err);

/* How long terminated instances stay visible. */
#define INST_TERMINATED_TTL 3600
