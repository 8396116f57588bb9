#include "domstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

static unsigned long long
ull(virTypedParameterPtr p, int n, const char *fmt, unsigned long idx)
{
    char key[VIR_TYPED_PARAM_FIELD_LENGTH];
    unsigned long long v = 0;
    snprintf(key, sizeof(key), fmt, idx);
    if (virTypedParamsGetULLong(p, n, key, &v) < 0) {
        virResetLastError();
        return 0;
    }
    return v;
}

static unsigned int
uint_param(virTypedParameterPtr p, int n, const char *key)
{
    unsigned int v = 0;
    if (virTypedParamsGetUInt(p, n, key, &v) < 0) {
        virResetLastError();
        return 0;
    }
    return v;
}

static int
one(virDomainStatsRecordPtr r, domstat *d)
{
    virTypedParameterPtr p = r->params;
    int n = r->nparams;
    int state = 0;
    snprintf(d->name, sizeof(d->name), "%s", virDomainGetName(r->dom));
    d->id = virDomainGetID(r->dom);
    if (virTypedParamsGetInt(p, n, "state.state", &state) < 0)
        virResetLastError();
    d->running = state == VIR_DOMAIN_RUNNING;
    d->vcpus = uint_param(p, n, "vcpu.current");
    unsigned int maxv = uint_param(p, n, "vcpu.maximum");
    for (unsigned long i = 0; i < maxv; i++) {
        char key[VIR_TYPED_PARAM_FIELD_LENGTH];
        unsigned long long t;
        snprintf(key, sizeof(key), "vcpu.%lu.time", i);
        if (virTypedParamsGetULLong(p, n, key, &t) == 1) {
            d->vcpu_ns += t;
            d->has_cpu = true;
        } else
            virResetLastError();
    }
    for (unsigned long i = 0, nn = uint_param(p, n, "net.count"); i < nn; i++) {
        d->rx_bytes += ull(p, n, "net.%lu.rx.bytes", i);
        d->tx_bytes += ull(p, n, "net.%lu.tx.bytes", i);
        d->rx_pkts += ull(p, n, "net.%lu.rx.pkts", i);
        d->tx_pkts += ull(p, n, "net.%lu.tx.pkts", i);
    }
    unsigned int nb = uint_param(p, n, "block.count");
    if (nb) {
        d->blocks = calloc(nb, sizeof(*d->blocks));
        if (!d->blocks)
            return -1;
    }
    for (unsigned long i = 0; i < nb; i++) {
        char key[VIR_TYPED_PARAM_FIELD_LENGTH];
        const char *path = NULL;
        domstat_block *b = &d->blocks[d->nblocks];
        snprintf(key, sizeof(key), "block.%lu.path", i);
        if (virTypedParamsGetString(p, n, key, &path) < 0)
            virResetLastError();
        b->path = strdup(path ? path : "");
        if (!b->path)
            return -1;
        d->nblocks++;
        b->rd_bytes = ull(p, n, "block.%lu.rd.bytes", i);
        b->wr_bytes = ull(p, n, "block.%lu.wr.bytes", i);
        b->rd_reqs = ull(p, n, "block.%lu.rd.reqs", i);
        b->wr_reqs = ull(p, n, "block.%lu.wr.reqs", i);
    }
    return 0;
}

int
domstats_read(virConnectPtr conn, domstat **ret, size_t *ret_n, vm_error *err)
{
    virDomainStatsRecordPtr *recs = NULL;
    *ret = NULL;
    *ret_n = 0;
    int n = virConnectGetAllDomainStats(conn,
                                        VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE |
                                            VIR_DOMAIN_STATS_BLOCK,
                                        &recs, 0);
    if (n < 0)
        return vm_error_from_virt(err, "reading the domains' statistics");
    domstat *d = calloc(n ? (size_t)n : 1, sizeof(*d));
    int rc = d ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++)
        rc = one(recs[i], &d[i]);
    virDomainStatsRecordListFree(recs);
    if (rc < 0) {
        domstats_free(d, d ? (size_t)n : 0);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    *ret = d;
    *ret_n = (size_t)n;
    return 0;
}

void
domstats_free(domstat *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++) {
        for (size_t k = 0; k < d[i].nblocks; k++)
            free(d[i].blocks[k].path);
        free(d[i].blocks);
    }
    free(d);
}

const domstat *
domstats_find(const domstat *d, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].name, name) == 0)
            return &d[i];
    return NULL;
}
