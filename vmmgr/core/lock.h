/* Advisory locks (flock) on files under <state-dir>/locks.  A lock dies with its process, so a
 * crashed CLI never leaves a resource locked; reconcile uses that to tell an operation still in
 * progress in another process from one that was interrupted. */
#pragma once

#include <stdbool.h>

#include "error.h"

/* Locks <dir>/<name>.  Returns the held fd (>= 0); with nonblock, -2 when another process holds
 * it (err untouched); -1 on error.  Release with vm_lock_release. */
int vm_lock_take(const char *dir, const char *name, bool nonblock, vm_error *err);
void vm_lock_release(int fd);
