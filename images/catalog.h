/* The image catalogue (AMIs): a read-only base disk plus, for direct-boot images, a kernel and
 * an initramfs, all kept under <state-dir>/images/<ami-id>/. */
#pragma once

#include "../vmmgr/core/filter.h"

#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/node.h"
#include "../vmmgr/core/params.h"

#define IMG_TINY_NAME "vmmgr-tiny"

typedef struct img_obj {
    char id[VM_ID_MAX];
    char *name, *description, *state, *boot, *architecture;
    char *base_path, *kernel_path, *initrd_path; /* kernel/initrd NULL unless boot is "direct" */
    time_t created_at;
    unsigned long long size_bytes; /* virtual size of the base; 0 until first asked (img_size) */
} img_obj;

void img_obj_free(img_obj *img);
VM_DEFINE_CLEANUP(img_obj *, img_obj_free)

/* Loads image id: InvalidAMIID.Malformed for a bad id, InvalidAMIID.NotFound when unknown. */
int img_get(vm_ctx *ctx, const char *id, img_obj **ret, vm_error *err);
/* The virtual size of img's base: read with qemu-img once, then kept in the store. */
int img_size(vm_ctx *ctx, img_obj *img, unsigned long long *ret, vm_error *err);
/* 1 and *ret_id when an image is called name, 0 when none. */
int img_find_by_name(vm_ctx *ctx, const char *name, char ret_id[VM_ID_MAX], vm_error *err);
/* Records an available image whose files already sit in <state-dir>/images/<id>/. */
int img_register(vm_ctx *ctx, const char *id, const char *name, const char *description, const char *boot,
                 const char *base, const char *kernel, const char *initrd, vm_error *err);

/* Typed requests from the EC2 edge (vmmgr/services/ec2/images.c), answering into resp as EC2 does.
 * DescribeImages: the images named (each must exist; none: all) of the owners (self, the account,
 * amazon; an empty list: any) that pass the filters. */
int img_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const char *const *owners, const vm_filters *fs,
                 vm_node *resp, vm_error *err);

/* ImportImage (local only: it reads a file of this host); its copy shows progress when
 * ctx->progress. */
typedef struct img_import_req {
    const char *url;    /* file:///PATH */
    const char *format; /* qcow2 or raw */
    const char *name, *description, *architecture;
    const char *boot_mode;             /* NULL: bios */
    const char *kernel, *initrd;       /* files of this host, for boot mode direct */
} img_import_req;
int img_import(vm_ctx *ctx, const img_import_req *r, vm_node *resp, vm_error *err);
/* DeregisterImage: its files go (the snapshot of one that CreateImage made stays), the row stays
 * hidden for the terminated instances that name it.  The caller has checked that no living
 * instance uses it (compute's inst_using_image). */
int img_deregister(vm_ctx *ctx, const char *image_id, vm_node *resp, vm_error *err);

/* The catalogue's parts of a new image (CreateImage, compute/create_image.c, and ImportImage):
 * AMI names (3 to 128 of EC2's characters; InvalidAMIName.Malformed) not taken (.Duplicate); the
 * pending record and its directory, base the path of its root.qcow2; its state; qemu-img convert to
 * a flattened, read-only qcow2 at base (shared: the source is still open read-write, NoReboot). */
int img_check_name(const char *name, vm_error *err);
int img_check_free(vm_ctx *ctx, const char *name, vm_error *err);
int img_record_pending(vm_ctx *ctx, const char *id, const char *name, const char *desc, const char *boot,
                       const char *kernel, const char *initrd, char *base, size_t baselen, vm_error *err);
int img_set_state(vm_ctx *ctx, const char *id, const char *state, vm_error *err);
int img_convert(const char *src, const char *fmt, const char *base, bool shared, bool progress, vm_error *err);
/* Inspects an outside file as format fmt ("qcow2" or "raw"): 0 when it is safe to read as that. */
int img_inspect(const char *path, const char *fmt, unsigned long long *ret_size, vm_error *err);
/* Removes an unfinished image: its files and its row. */
void img_discard(vm_ctx *ctx, const char *id);
/* Discards pending images that no process is making any more (reconcile). */
void img_sweep(vm_ctx *ctx);

/* Builds the tiny image (or takes it from the shared build cache) and registers it as
 * vmmgr-tiny unless the state dir already has it.  *ret_id receives its id. */
int img_tiny_ensure(vm_ctx *ctx, char ret_id[VM_ID_MAX], vm_error *err);
/* The files of the tiny image in the build cache (built when missing): "<dir>" into buf. */
int img_tiny_build(vm_ctx *ctx, char *buf, size_t len, vm_error *err);
