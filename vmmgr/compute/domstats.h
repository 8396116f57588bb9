/* What libvirt counts for every domain, read in one virConnectGetAllDomainStats call (the metrics
 * sampler's mechanism).  The counters are libvirt's, cumulative since the domain's QEMU started. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "../core/error.h"

typedef struct domstat_block {
    char *path; /* the source file ("" for a drive with none) */
    unsigned long long rd_bytes, wr_bytes, rd_reqs, wr_reqs;
} domstat_block;

typedef struct domstat {
    char name[64];
    unsigned int id;               /* libvirt's domain id: new at every start (-1 when inactive) */
    bool running;                  /* libvirt's state is VIR_DOMAIN_RUNNING */
    bool has_cpu;                  /* the vCPU counters were there (a running domain) */
    unsigned long long vcpu_ns;    /* Σ vcpu.N.time: the guest's own vCPU time */
    unsigned int vcpus;            /* vcpu.current */
    unsigned long long rx_bytes, tx_bytes, rx_pkts, tx_pkts; /* Σ net.N, the guest's view */
    domstat_block *blocks;
    size_t nblocks;
} domstat;

/* Every domain of conn (running or not) into *ret (free with domstats_free). */
int domstats_read(virConnectPtr conn, domstat **ret, size_t *ret_n, vm_error *err);
void domstats_free(domstat *d, size_t n);
/* The domain called name among d, or NULL. */
const domstat *domstats_find(const domstat *d, size_t n, const char *name);
