/* The one way vmmgr runs a helper program (qemu-img, the image build script): an argv vector,
 * posix_spawn, no shell, stdin from /dev/null, stdout and stderr captured together, a time limit
 * after which the child is killed, and optional CPU and address-space limits (prlimit) for tools
 * that read untrusted files. */
#pragma once

#include <stdbool.h>

#include "error.h"

typedef struct vm_cmd_limits {
    int timeout_sec;    /* 0: no limit */
    long cpu_sec;       /* RLIMIT_CPU, 0: none */
    long address_space; /* RLIMIT_AS in bytes, 0: none */
    bool show_output;   /* the child writes to our stderr instead of being captured (progress bars) */
} vm_cmd_limits;

/* Runs argv[0] (searched in PATH).  On exit status 0 returns 0 and, if ret_output is given, the
 * captured output (owned by the caller).  A non-zero exit, a signal or the time limit is an
 * InternalError naming the program and quoting the end of its output. */
int vm_cmd_run(const char *const *argv, const vm_cmd_limits *limits, char **ret_output, vm_error *err);
/* The pid a pid file names (a daemon's: dnsmasq, HAProxy, libvirtd's), 0 when there is none or it
 * is not a pid above 1; whether it still runs, and is that daemon, is the caller's to check. */
long vm_pid_file_read(const char *path);
