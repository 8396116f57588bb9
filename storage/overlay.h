/* Copy-on-write disks: a qcow2 overlay over a read-only base that records the base's format, so
 * a launch copies nothing whatever the image size, and nothing ever probes a format. */
#pragma once

#include "../vmmgr/core/error.h"

/* Creates path as a qcow2 overlay of base (whose format is base_fmt), virtual size size_bytes
 * (0: the base's).  Refuses to overwrite an existing file. */
int vol_overlay_create(const char *base, const char *base_fmt, const char *path, unsigned long long size_bytes,
                       vm_error *err);
/* Removes path; a missing file is not an error. */
int vol_file_remove(const char *path, vm_error *err);
/* Copies src to dst (dst must not exist), sparse-aware via copy_file_range, mode 0444. */
int vol_file_copy_readonly(const char *src, const char *dst, vm_error *err);
