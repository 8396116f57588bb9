#include "sampler.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/compute/domstats.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "metrics.h"

#define STATUS_GRACE_SEC 180

enum {
    M_CPU,
    M_NET_IN,
    M_NET_OUT,
    M_PKT_IN,
    M_PKT_OUT,
    M_DISK_RB,
    M_DISK_WB,
    M_DISK_RO,
    M_DISK_WO,
    M_SCF,
    M_SCF_SYS,
    M_SCF_INST,
    M__LAST
};

static const struct {
    const char *name, *unit;
} ec2_metrics[M__LAST] = {
    [M_CPU] = { "CPUUtilization", "Percent" },
    [M_NET_IN] = { "NetworkIn", "Bytes" },
    [M_NET_OUT] = { "NetworkOut", "Bytes" },
    [M_PKT_IN] = { "NetworkPacketsIn", "Count" },
    [M_PKT_OUT] = { "NetworkPacketsOut", "Count" },
    [M_DISK_RB] = { "DiskReadBytes", "Bytes" },
    [M_DISK_WB] = { "DiskWriteBytes", "Bytes" },
    [M_DISK_RO] = { "DiskReadOps", "Count" },
    [M_DISK_WO] = { "DiskWriteOps", "Count" },
    [M_SCF] = { "StatusCheckFailed", "Count" },
    [M_SCF_SYS] = { "StatusCheckFailed_System", "Count" },
    [M_SCF_INST] = { "StatusCheckFailed_Instance", "Count" },
};

/* what the sampler remembers of a domain between rounds */
typedef struct seen {
    domstat st;
    time_t since;     /* when this sampler first saw this start of it running */
    time_t status_at; /* when its status checks were last put (once a minute) */
} seen;

struct sampler {
    seen *prev;
    size_t nprev;
    struct timespec at; /* monotonic time of the previous round */
    time_t wall;        /* wall time of the previous round (0: none) */
};

/* an instance the store says is running, with the round's values */
typedef struct inst_row {
    char id[VM_ID_MAX], type[32], image[VM_ID_MAX];
    char group[256]; /* its Auto Scaling group when it is InService in one, else "" */
    double v[M__LAST];
    bool has[M__LAST];
} inst_row;

typedef struct vol_row {
    char id[VM_ID_MAX];
    char *path;
} vol_row;

typedef struct points {
    metric_datum *d;
    size_t n, cap;
} points;

sampler *
sampler_new(void)
{
    return calloc(1, sizeof(sampler));
}

static void
seen_free(seen *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        for (size_t k = 0; k < s[i].st.nblocks; k++)
            free(s[i].st.blocks[k].path);
        free(s[i].st.blocks);
    }
    free(s);
}

void
sampler_free(sampler *s)
{
    if (!s)
        return;
    seen_free(s->prev, s->nprev);
    free(s);
}

static const seen *
find_seen(const sampler *s, const char *name)
{
    for (size_t i = 0; i < s->nprev; i++)
        if (strcmp(s->prev[i].st.name, name) == 0)
            return &s->prev[i];
    return NULL;
}

static const domstat_block *
find_block(const domstat *d, const char *path)
{
    for (size_t i = 0; i < d->nblocks; i++)
        if (strcmp(d->blocks[i].path, path) == 0)
            return &d->blocks[i];
    return NULL;
}

/* cur − prev, or false when the counter went down (a reset: no point) */
static bool
delta(unsigned long long cur, unsigned long long prev, double *ret)
{
    if (cur < prev)
        return false;
    *ret = (double)(cur - prev);
    return true;
}

static int
add(points *p, const char *ns, const char *name, const char *unit, const char *dim, const char *value, time_t ts,
    double count, double sum, double min, double max)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        metric_datum *d = realloc(p->d, cap * sizeof(*d));
        if (!d)
            return -1;
        p->d = d;
        p->cap = cap;
    }
    p->d[p->n++] = (metric_datum){
        .key = { .ns = ns, .name = name, .dims = { { dim, value } }, .ndims = 1 },
        .ts = ts,
        .count = count,
        .sum = sum,
        .min = min,
        .max = max,
        .unit = unit,
        .resolution = 1,
    };
    return 0;
}

static int
load_instances(vm_ctx *ctx, inst_row **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *ret_n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT i.id, i.instance_type, i.image_id, coalesce(a.group_name, '') FROM instances i LEFT "
                   "JOIN asg_instances a ON a.instance_id = i.id AND a.lifecycle = 'InService' WHERE i.state = ? "
                   "ORDER BY i.id",
                   "i", (long long)INST_RUNNING) < 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*ret_n == cap) {
            cap = cap ? cap * 2 : 16;
            inst_row *r = realloc(*ret, cap * sizeof(**ret));
            if (!r)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            *ret = r;
        }
        inst_row *r = &(*ret)[(*ret_n)++];
        memset(r, 0, sizeof(*r));
        snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
        snprintf(r->type, sizeof(r->type), "%s", vm_db_text(st, 1));
        snprintf(r->image, sizeof(r->image), "%s", vm_db_text(st, 2));
        snprintf(r->group, sizeof(r->group), "%s", vm_db_text(st, 3));
    }
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "listing running instances", err);
}

static int
load_volumes(vm_ctx *ctx, vol_row **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *ret_n = 0;
    if (vm_db_prepare(ctx->db, "SELECT id, path FROM volumes WHERE instance_id IS NOT NULL ORDER BY id", &st, err) < 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*ret_n == cap) {
            cap = cap ? cap * 2 : 16;
            vol_row *r = realloc(*ret, cap * sizeof(**ret));
            if (!r)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            *ret = r;
        }
        vol_row *r = &(*ret)[*ret_n];
        snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
        r->path = strdup(vm_db_text(st, 1));
        if (!r->path)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        (*ret_n)++;
    }
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "listing attached volumes", err);
}

/* the round's values of one instance, from its domain now and at the previous round */
static void
instance_values(inst_row *r, const domstat *cur, const seen *old, double dt, bool status, time_t since, time_t now)
{
    bool same = cur && cur->running && old && old->st.running && old->st.id == cur->id;
    if (same && cur->has_cpu && old->st.has_cpu && cur->vcpus > 0 && dt > 0 &&
        delta(cur->vcpu_ns, old->st.vcpu_ns, &r->v[M_CPU])) {
        r->v[M_CPU] = 100.0 * r->v[M_CPU] / (dt * 1e9 * cur->vcpus);
        r->v[M_CPU] = r->v[M_CPU] > 100 ? 100 : r->v[M_CPU];
        r->has[M_CPU] = true;
    }
    if (same) {
        /* the guest's view: what it received is In */
        r->has[M_NET_IN] = delta(cur->rx_bytes, old->st.rx_bytes, &r->v[M_NET_IN]);
        r->has[M_NET_OUT] = delta(cur->tx_bytes, old->st.tx_bytes, &r->v[M_NET_OUT]);
        r->has[M_PKT_IN] = delta(cur->rx_pkts, old->st.rx_pkts, &r->v[M_PKT_IN]);
        r->has[M_PKT_OUT] = delta(cur->tx_pkts, old->st.tx_pkts, &r->v[M_PKT_OUT]);
        bool ok = true;
        double d[4] = { 0 };
        for (size_t i = 0; i < cur->nblocks && ok; i++) {
            const domstat_block *b = &cur->blocks[i], *ob = find_block(&old->st, b->path);
            double x[4];
            ok = ob && delta(b->rd_bytes, ob->rd_bytes, &x[0]) && delta(b->wr_bytes, ob->wr_bytes, &x[1]) &&
                 delta(b->rd_reqs, ob->rd_reqs, &x[2]) && delta(b->wr_reqs, ob->wr_reqs, &x[3]);
            for (int k = 0; ok && k < 4; k++)
                d[k] += x[k];
        }
        for (int k = 0; ok && k < 4; k++) {
            r->v[M_DISK_RB + k] = d[k];
            r->has[M_DISK_RB + k] = true;
        }
    }
    if (status) {
        bool sys = !cur || !cur->running;
        bool inst = !sys && now - since >= STATUS_GRACE_SEC && cur->tx_pkts == 0;
        r->v[M_SCF_SYS] = sys;
        r->v[M_SCF_INST] = inst;
        r->v[M_SCF] = sys || inst;
        r->has[M_SCF_SYS] = r->has[M_SCF_INST] = r->has[M_SCF] = true;
    }
}

/* the statistic set of metric m over the instances whose field (type or image) is value */
static int
aggregate(points *p, const inst_row *rows, size_t n, int m, const char *dim, size_t off, const char *value,
          time_t now)
{
    double count = 0, sum = 0, min = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].has[m] || strcmp((const char *)&rows[i] + off, value) != 0)
            continue;
        double v = rows[i].v[m];
        min = count == 0 || v < min ? v : min;
        max = count == 0 || v > max ? v : max;
        count++;
        sum += v;
    }
    return count ? add(p, "AWS/EC2", ec2_metrics[m].name, ec2_metrics[m].unit, dim, value, now, count, sum, min, max)
                 : 0;
}

int
sampler_round(vm_ctx *ctx, sampler *s, time_t now, size_t *ret_points, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    domstat *doms = NULL;
    size_t ndoms = 0;
    inst_row *rows = NULL;
    vol_row *vols = NULL;
    size_t nrows = 0, nvols = 0;
    points p = { 0 };
    seen *next = NULL;
    int rc = -1;
    /* the store first: an instance it says is running had a running domain before the counters are
     * read (one the store marked running between the two reads would look failed) */
    if (load_instances(ctx, &rows, &nrows, err) < 0 || load_volumes(ctx, &vols, &nvols, err) < 0 ||
        domstats_read(conn, &doms, &ndoms, err) < 0)
        goto out;
    double dt = s->wall ? (double)(at.tv_sec - s->at.tv_sec) + (at.tv_nsec - s->at.tv_nsec) / 1e9 : 0;
    bool status = !s->wall || now / 60 != s->wall / 60;

    next = calloc(ndoms ? ndoms : 1, sizeof(*next));
    if (!next) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ndoms; i++) {
        const seen *old = find_seen(s, doms[i].name);
        next[i].st = doms[i];
        next[i].since = old && old->st.id == doms[i].id && old->st.running ? old->since : now;
        next[i].status_at = old ? old->status_at : 0;
    }
    for (size_t i = 0; i < nrows; i++) {
        inst_row *r = &rows[i];
        const domstat *cur = domstats_find(doms, ndoms, r->id);
        const seen *old = find_seen(s, r->id);
        time_t since = cur ? next[cur - doms].since : now;
        /* an instance's status checks: in its first round and then once a minute (by the round's
         * minute when it has no domain) */
        bool st = cur ? now / 60 != next[cur - doms].status_at / 60 : status;
        if (st && cur)
            next[cur - doms].status_at = now;
        instance_values(r, cur, old, dt, st, since, now);
        for (int m = 0; m < M__LAST; m++)
            if (r->has[m] && add(&p, "AWS/EC2", ec2_metrics[m].name, ec2_metrics[m].unit, "InstanceId", r->id, now, 1,
                                 r->v[m], r->v[m], r->v[m]) < 0)
                goto oom;
        /* the volumes on its disks */
        for (size_t k = 0; cur && old && cur->running && old->st.id == cur->id && k < cur->nblocks; k++) {
            const domstat_block *b = &cur->blocks[k], *ob = find_block(&old->st, b->path);
            const vol_row *v = NULL;
            for (size_t j = 0; j < nvols && !v; j++)
                v = strcmp(vols[j].path, b->path) == 0 ? &vols[j] : NULL;
            static const char *names[4] = { "VolumeReadBytes", "VolumeWriteBytes", "VolumeReadOps", "VolumeWriteOps" };
            unsigned long long c[4] = { b->rd_bytes, b->wr_bytes, b->rd_reqs, b->wr_reqs };
            unsigned long long o[4] = { 0 };
            if (!v || !ob)
                continue;
            o[0] = ob->rd_bytes, o[1] = ob->wr_bytes, o[2] = ob->rd_reqs, o[3] = ob->wr_reqs;
            for (int m = 0; m < 4; m++) {
                double d;
                if (delta(c[m], o[m], &d) &&
                    add(&p, "AWS/EBS", names[m], m < 2 ? "Bytes" : "Count", "VolumeId", v->id, now, 1, d, d, d) < 0)
                    goto oom;
            }
        }
    }
    /* the aggregates by type, by image and by Auto Scaling group (its InService instances): one
     * statistic set over their instances */
    for (size_t i = 0; i < nrows; i++) {
        bool type_done = false, image_done = false, group_done = !rows[i].group[0];
        for (size_t j = 0; j < i; j++) {
            type_done = type_done || strcmp(rows[j].type, rows[i].type) == 0;
            image_done = image_done || strcmp(rows[j].image, rows[i].image) == 0;
            group_done = group_done || strcmp(rows[j].group, rows[i].group) == 0;
        }
        for (int m = 0; m < M__LAST; m++)
            if ((!type_done && aggregate(&p, rows, nrows, m, "InstanceType", offsetof(inst_row, type), rows[i].type,
                                         now) < 0) ||
                (!image_done && aggregate(&p, rows, nrows, m, "ImageId", offsetof(inst_row, image), rows[i].image,
                                          now) < 0) ||
                (!group_done && aggregate(&p, rows, nrows, m, "AutoScalingGroupName", offsetof(inst_row, group),
                                          rows[i].group, now) < 0))
                goto oom;
    }
    if (p.n && metrics_put(ctx, p.d, p.n, err) < 0)
        goto out;
    if (ret_points)
        *ret_points = p.n;
    rc = 0;
    goto out;
oom:
    vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
out:
    if (rc == 0) {
        /* this round is the next one's base; the domains' blocks move to it */
        seen_free(s->prev, s->nprev);
        s->prev = next;
        s->nprev = ndoms;
        s->at = at;
        s->wall = now;
        free(doms);
    } else {
        free(next);
        domstats_free(doms, ndoms);
    }
    for (size_t i = 0; i < nvols; i++)
        free(vols[i].path);
    free(vols);
    free(rows);
    free(p.d);
    return rc;
}
