/* The load balancers' CloudWatch metrics, from HAProxy's counters (`show stat`), at each round of
 * the daemon's sampler: AWS/ApplicationELB (RequestCount, HTTPCode_Target_2XX/4XX/5XX_Count,
 * TargetResponseTime per load balancer; HealthyHostCount, UnHealthyHostCount per target group and
 * load balancer; RequestCountPerTarget per target group, what ALBRequestCountPerTarget tracks) and
 * AWS/NetworkELB (ActiveFlowCount, NewFlowCount, HealthyHostCount, UnHealthyHostCount).  Counters
 * are turned into the round's increase; a restarted HAProxy starts them again from zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/metrics.h"
#include "../vmmgr/core/cleanup.h"
#include "elb.h"

/* A counter's last value, by load balancer, proxy and column. */
typedef struct elb_counter {
    char key[96];
    double v;
} elb_counter;

struct elb_sampler {
    elb_counter *c;
    size_t n;
};

elb_sampler *
elb_sampler_new(void)
{
    return calloc(1, sizeof(elb_sampler));
}

void
elb_sampler_free(elb_sampler *s)
{
    if (s)
        free(s->c);
    free(s);
}

/* The increase of a counter since the last round; false the first time it is seen. */
static bool
increase(elb_sampler *s, const char *lb, const char *px, const char *col, double now, double *ret)
{
    char key[96];
    snprintf(key, sizeof(key), "%s/%s/%s", lb, px, col);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->c[i].key, key) == 0) {
            *ret = now >= s->c[i].v ? now - s->c[i].v : now;
            s->c[i].v = now;
            return true;
        }
    elb_counter *v = realloc(s->c, (s->n + 1) * sizeof(*v));
    if (!v)
        return false;
    s->c = v;
    snprintf(v[s->n].key, sizeof(v->key), "%s", key);
    v[s->n++].v = now;
    return false;
}

/* --- the CSV of `show stat` ----------------------------------------------------------------------------- */

typedef struct csv {
    char *header; /* "# pxname,svname,…" */
} csv;

static int
column(const csv *c, const char *name)
{
    int i = 0;
    for (const char *p = c->header + 2; p && *p; i++) {
        size_t n = strcspn(p, ",\n");
        if (strlen(name) == n && strncmp(p, name, n) == 0)
            return i;
        p = p[n] == ',' ? p + n + 1 : NULL;
    }
    return -1;
}

static double
field(const char *row, int idx, char *buf, size_t len)
{
    const char *p = row;
    for (int i = 0; p && i < idx; i++)
        p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
    if (!p || idx < 0) {
        if (buf)
            buf[0] = '\0';
        return 0;
    }
    size_t n = strcspn(p, ",\n");
    if (buf)
        snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
    return strtod(p, NULL);
}

/* --- points ------------------------------------------------------------------------------------------------- */

typedef struct points {
    metric_datum *d;
    size_t n;
    char **strs; /* the dimension values the points borrow */
    size_t nstrs;
} points;

static const char *
keep(points *p, const char *s)
{
    char **v = realloc(p->strs, (p->nstrs + 1) * sizeof(*v));
    if (!v)
        return NULL;
    p->strs = v;
    return v[p->nstrs++] = strdup(s);
}

static void
add(points *p, const char *ns, const char *name, const char *unit, const char *lb_dim, const char *tg_dim, time_t now,
    double v)
{
    metric_datum *d = realloc(p->d, (p->n + 1) * sizeof(*d));
    if (!d)
        return;
    p->d = d;
    metric_datum *x = &d[p->n];
    memset(x, 0, sizeof(*x));
    x->key.ns = ns;
    x->key.name = name;
    if (tg_dim) {
        x->key.dims[x->key.ndims].name = "TargetGroup";
        x->key.dims[x->key.ndims++].value = keep(p, tg_dim);
    }
    if (lb_dim) {
        x->key.dims[x->key.ndims].name = "LoadBalancer";
        x->key.dims[x->key.ndims++].value = keep(p, lb_dim);
    }
    for (size_t i = 0; i < x->key.ndims; i++)
        if (!x->key.dims[i].value)
            return;
    x->ts = now;
    x->count = 1;
    x->sum = x->min = x->max = v;
    x->unit = unit;
    x->resolution = 60;
    p->n++;
}

static void
lb_points(vm_ctx *ctx, elb_sampler *s, const elb_lb *lb, time_t now, points *p)
{
    vm_error ignore = { 0 };
    _cleanup_free_ char *out = elb_haproxy_cmd(ctx, lb->id, "show stat", &ignore);
    if (!out || strncmp(out, "# pxname,", 9) != 0)
        return;
    csv c = { .header = out };
    char *nl = strchr(out, '\n');
    if (!nl)
        return;
    *nl = '\0';
    char *rows = nl + 1;
    int c_sv = column(&c, "svname"), c_req = column(&c, "req_tot"), c_2xx = column(&c, "hrsp_2xx"),
        c_4xx = column(&c, "hrsp_4xx"), c_5xx = column(&c, "hrsp_5xx"), c_rtime = column(&c, "rtime"),
        c_scur = column(&c, "scur"), c_stot = column(&c, "stot"), c_status = column(&c, "status");
    bool app = strcmp(lb->type, "application") == 0;
    const char *ns = app ? "AWS/ApplicationELB" : "AWS/NetworkELB";
    char lbdim[160];
    snprintf(lbdim, sizeof(lbdim), "%s/%s/%s", app ? "app" : "net", lb->name, lb->id);
    double requests = 0, r2 = 0, r4 = 0, r5 = 0, flows = 0, new_flows = 0, rtime_sum = 0, rtime_w = 0;
    bool have_req = false, have_flows = false;
    /* the rows, each a string */
    size_t nr = 0;
    _cleanup_free_ char **r = NULL;
    for (char *row = rows; *row;) {
        char **v = realloc(r, (nr + 1) * sizeof(*v));
        if (!v)
            return;
        r = v;
        r[nr++] = row;
        char *end = strchr(row, '\n');
        if (!end)
            break;
        *end = '\0';
        row = end + 1;
    }
    for (size_t i = 0; i < nr; i++) {
        char px[64], sv[96], status[32];
        field(r[i], 0, px, sizeof(px));
        field(r[i], c_sv, sv, sizeof(sv));
        double d;
        if (strcmp(sv, "FRONTEND") == 0 && strncmp(px, "ln-", 3) == 0) {
            if (app && increase(s, lb->id, px, "req_tot", field(r[i], c_req, NULL, 0), &d))
                requests += d, have_req = true;
            if (!app) {
                flows += field(r[i], c_scur, NULL, 0);
                have_flows = true;
                if (increase(s, lb->id, px, "stot", field(r[i], c_stot, NULL, 0), &d))
                    new_flows += d;
            }
            continue;
        }
        if (strcmp(sv, "BACKEND") != 0 || strncmp(px, "tg-", 3) != 0)
            continue;
        elb_tg tg;
        vm_error nf = { 0 };
        if (elb_tg_get(ctx, px + 3, &tg, &nf) < 0)
            continue;
        char tgdim[160];
        snprintf(tgdim, sizeof(tgdim), "targetgroup/%s/%s", tg.name, tg.id);
        /* the backend's servers: healthy (UP) and unhealthy (DOWN) */
        double up = 0, down = 0;
        for (size_t j = 0; j < nr; j++) {
            char px2[64], sv2[96];
            field(r[j], 0, px2, sizeof(px2));
            field(r[j], c_sv, sv2, sizeof(sv2));
            if (strcmp(px2, px) != 0 || strcmp(sv2, "BACKEND") == 0 || strcmp(sv2, "FRONTEND") == 0)
                continue;
            field(r[j], c_status, status, sizeof(status));
            if (strncmp(status, "UP", 2) == 0)
                up++;
            else if (strncmp(status, "DOWN", 4) == 0)
                down++;
        }
        add(p, ns, "HealthyHostCount", "Count", lbdim, tgdim, now, up);
        add(p, ns, "UnHealthyHostCount", "Count", lbdim, tgdim, now, down);
        if (app && increase(s, lb->id, px, "req_tot", field(r[i], c_req, NULL, 0), &d)) {
            add(p, ns, "RequestCountPerTarget", "Count", NULL, tgdim, now, d / (up > 0 ? up : 1));
            if (d > 0)
                rtime_sum += field(r[i], c_rtime, NULL, 0) * d, rtime_w += d;
        }
        if (app && increase(s, lb->id, px, "hrsp_2xx", field(r[i], c_2xx, NULL, 0), &d))
            r2 += d;
        if (app && increase(s, lb->id, px, "hrsp_4xx", field(r[i], c_4xx, NULL, 0), &d))
            r4 += d;
        if (app && increase(s, lb->id, px, "hrsp_5xx", field(r[i], c_5xx, NULL, 0), &d))
            r5 += d;
    }
    if (app && have_req) {
        add(p, ns, "RequestCount", "Count", lbdim, NULL, now, requests);
        add(p, ns, "HTTPCode_Target_2XX_Count", "Count", lbdim, NULL, now, r2);
        add(p, ns, "HTTPCode_Target_4XX_Count", "Count", lbdim, NULL, now, r4);
        add(p, ns, "HTTPCode_Target_5XX_Count", "Count", lbdim, NULL, now, r5);
        if (rtime_w > 0)
            add(p, ns, "TargetResponseTime", "Seconds", lbdim, NULL, now, rtime_sum / rtime_w / 1000.0);
    }
    if (!app && have_flows) {
        add(p, ns, "ActiveFlowCount", "Count", lbdim, NULL, now, flows);
        add(p, ns, "NewFlowCount", "Count", lbdim, NULL, now, new_flows);
    }
}

int
elb_metrics_round(vm_ctx *ctx, elb_sampler *s, time_t now, vm_error *err)
{
    _cleanup_free_ elb_lb *lbs = NULL;
    size_t n;
    if (elb_lbs(ctx, false, &lbs, &n, err) < 0)
        return -1;
    points p = { 0 };
    for (size_t i = 0; i < n; i++)
        lb_points(ctx, s, &lbs[i], now, &p);
    int rc = p.n ? metrics_put(ctx, p.d, p.n, err) : 0;
    for (size_t i = 0; i < p.nstrs; i++)
        free(p.strs[i]);
    free(p.strs);
    free(p.d);
    return rc;
}
