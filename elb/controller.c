/* The load balancers' controller (a round of `vmmgr serve`'s loop): each load balancer's namespace
 * plugged into its subnets, its HAProxy running with the configuration the store says (started when
 * missing or killed, reloaded when a listener or rule changed), its servers made the store's targets
 * through the runtime API, draining targets let go when their delay ends, and a deleted load
 * balancer's data plane taken down.  HAProxy keeps serving whether `serve` runs or not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../net/net.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "elb.h"

/* --- `show stat`: the servers of every backend ------------------------------------------------------ */

typedef struct srv_stat {
    char backend[40];
    char name[80];
    char status[24];       /* UP, DOWN, "DOWN 1/3", MAINT, DRAIN, … */
    char check_status[16]; /* L7OK, L7STS, L4TOUT, INI, … ("* " prefix dropped) */
    long chkdown;          /* UP → DOWN transitions this HAProxy saw */
    long lastchg;          /* seconds since the last change of status */
} srv_stat;

static int
stat_field(const char *line, int idx, char *buf, size_t len)
{
    const char *p = line;
    for (int i = 0; i < idx; i++) {
        p = strchr(p, ',');
        if (!p)
            return -1;
        p++;
    }
    size_t n = strcspn(p, ",\n");
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
    return 0;
}

/* The servers HAProxy has for lb_id (owned array), -1 when it does not answer. */
static int
read_stats(vm_ctx *ctx, const char *lb_id, srv_stat **ret, size_t *n)
{
    vm_error ignore = { 0 };
    _cleanup_free_ char *out = elb_haproxy_cmd(ctx, lb_id, "show stat -1 4 -1", &ignore);
    *ret = NULL;
    *n = 0;
    if (!out || strncmp(out, "# pxname", 8) != 0)
        return -1;
    for (char *line = strchr(out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        srv_stat s = { 0 };
        char *l = line + 1;
        if (stat_field(l, 0, s.backend, sizeof(s.backend)) < 0 || stat_field(l, 1, s.name, sizeof(s.name)) < 0 ||
            stat_field(l, 17, s.status, sizeof(s.status)) < 0 || stat_field(l, 36, s.check_status, sizeof(s.check_status)) < 0)
            continue;
        if (strcmp(s.name, "BACKEND") == 0 || strcmp(s.name, "FRONTEND") == 0)
            continue;
        char num[24];
        s.chkdown = stat_field(l, 22, num, sizeof(num)) == 0 ? atol(num) : 0;
        s.lastchg = stat_field(l, 23, num, sizeof(num)) == 0 ? atol(num) : 0;
        if (strncmp(s.check_status, "* ", 2) == 0)
            memmove(s.check_status, s.check_status + 2, strlen(s.check_status + 2) + 1);
        srv_stat *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            break;
        *ret = v;
        v[(*n)++] = s;
    }
    return 0;
}

static const srv_stat *
find_stat(const srv_stat *ss, size_t n, const char *backend, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ss[i].backend, backend) == 0 && strcmp(ss[i].name, name) == 0)
            return &ss[i];
    return NULL;
}

/* ELB's state of a target from HAProxy's view of its server. */
static void
map_state(const elb_tg *tg, const elb_target *t, const srv_stat *s, char state[16], char reason[48], char desc[160])
{
    reason[0] = desc[0] = '\0';
    if (t->drain_until) {
        snprintf(state, 16, "draining");
        snprintf(reason, 48, "Target.DeregistrationInProgress");
        snprintf(desc, 160, "Target deregistration is in progress");
        return;
    }
    if (!s || strncmp(s->status, "MAINT", 5) == 0) {
        snprintf(state, 16, "initial");
        snprintf(reason, 48, "Elb.RegistrationInProgress");
        snprintf(desc, 160, "Target registration is in progress");
        return;
    }
    /* UP before any check (a server just enabled) is healthy only when it was before (a HAProxy
     * restarted from its servers' state) */
    if ((strncmp(s->status, "UP", 2) == 0 && (strcmp(s->check_status, "INI") != 0 || strcmp(t->health, "healthy") == 0)) ||
        strncmp(s->status, "no check", 8) == 0) {
        snprintf(state, 16, "healthy");
        return;
    }
    if (strncmp(s->status, "UP", 2) == 0) {
        snprintf(state, 16, "initial");
        snprintf(reason, 48, "Elb.InitialHealthChecking");
        snprintf(desc, 160, "Initial health checks in progress");
        return;
    }
    /* a healthy target that a new HAProxy (reloaded, restarted) shows DOWN without having seen it
     * go down: its checks have not failed `fall` times in this process yet, so the DOWN is the
     * process's start, not the target's; it stays healthy until its checks say otherwise */
    if (strcmp(t->health, "healthy") == 0 && s->chkdown == 0 && s->lastchg < tg->hc_interval * (tg->unhealthy + 1)) {
        snprintf(state, 16, "healthy");
        return;
    }
    bool failing = strcmp(s->check_status, "INI") != 0 && strcmp(s->check_status, "L7OK") != 0 &&
                   strcmp(s->check_status, "L4OK") != 0 && strcmp(s->check_status, "L6OK") != 0 &&
                   strcmp(s->check_status, "") != 0;
    /* never yet healthy: the first checks are running, until they have failed as often as the
     * unhealthy threshold says */
    bool young = time(NULL) - t->created_at < tg->hc_interval * tg->unhealthy;
    if (strcmp(t->health, "healthy") != 0 && (!failing || young)) {
        snprintf(state, 16, "initial");
        snprintf(reason, 48, "Elb.InitialHealthChecking");
        snprintf(desc, 160, "Initial health checks in progress");
        return;
    }
    snprintf(state, 16, "unhealthy");
    if (strcmp(s->check_status, "L7STS") == 0) {
        snprintf(reason, 48, "Target.ResponseCodeMismatch");
        snprintf(desc, 160, "Health checks failed with these codes: [%s]", "other");
    } else if (strstr(s->check_status, "TOUT")) {
        snprintf(reason, 48, "Target.Timeout");
        snprintf(desc, 160, "Request timed out");
    } else {
        snprintf(reason, 48, "Target.FailedHealthChecks");
        snprintf(desc, 160, "Health checks failed");
    }
}

void
elb_target_health(vm_ctx *ctx, const elb_tg *tg, const elb_target *t, char state[16], char reason[48], char desc[160])
{
    _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
    size_t nl = 0;
    vm_error ignore = { 0 };
    if (elb_lbs_of_tg(ctx, tg->id, &lbs, &nl, &ignore) < 0 || nl == 0) {
        snprintf(state, 16, "unused");
        snprintf(reason, 48, "Target.NotInUse");
        snprintf(desc, 160, "Target group is not configured to receive traffic from the load balancer");
        return;
    }
    _cleanup_free_ srv_stat *ss = NULL;
    size_t n;
    char backend[40], name[80];
    snprintf(backend, sizeof(backend), "tg-%s", tg->id);
    elb_server_name(t->target, t->port, name);
    if (read_stats(ctx, lbs[0], &ss, &n) < 0) {
        /* HAProxy is being restarted: what the controller saw last */
        snprintf(state, 16, "%s", strcmp(t->health, "healthy") == 0 ? "healthy" : "initial");
        snprintf(reason, 48, "%s", strcmp(t->health, "healthy") == 0 ? "" : "Elb.InitialHealthChecking");
        desc[0] = '\0';
        return;
    }
    map_state(tg, t, find_stat(ss, n, backend, name), state, reason, desc);
}

/* --- servers through the runtime API ---------------------------------------------------------------- */

static void
cmd(vm_ctx *ctx, const char *lb_id, const char *fmt, const char *a, const char *b)
{
    char line[512];
    snprintf(line, sizeof(line), fmt, a, b);
    vm_error ignore = { 0 };
    free(elb_haproxy_cmd(ctx, lb_id, line, &ignore));
}

/* Makes the servers of backend tg what the store says; records a target seen UP as healthy. */
static int
sync_backend(vm_ctx *ctx, const char *lb_id, const elb_tg *tg, const srv_stat *ss, size_t n, vm_error *err)
{
    _cleanup_free_ elb_target *ts = NULL;
    size_t nt;
    if (elb_targets_of(ctx, tg->id, &ts, &nt, err) < 0)
        return -1;
    char backend[40];
    snprintf(backend, sizeof(backend), "tg-%s", tg->id);
    for (size_t i = 0; i < nt; i++) {
        char name[80], full[128], line[512];
        elb_server_name(ts[i].target, ts[i].port, name);
        snprintf(full, sizeof(full), "%s/%s", backend, name);
        const srv_stat *s = find_stat(ss, n, backend, name);
        if (!s) {
            /* a new target: added in maintenance, checked, held down until its checks pass */
            char opts[160];
            elb_server_opts(tg, opts, sizeof(opts));
            snprintf(line, sizeof(line), "add server %s %s:%ld %s", full, ts[i].ip, ts[i].port, opts);
            vm_error ignore = { 0 };
            _cleanup_free_ char *said = elb_haproxy_cmd(ctx, lb_id, line, &ignore);
            if (!said || !strstr(said, "New server registered")) /* else the target stays initial: say why */
                fprintf(stderr, "vmmgr serve: load balancer %s: HAProxy refused '%s': %s\n", lb_id, line,
                        said ? said : ignore.msg);
            cmd(ctx, lb_id, "enable health %s%s", full, "");
            /* in this order (HAProxy 2.6: health set down before enabling comes back UP), on one
             * line, so that nothing runs between the two */
            if (!ts[i].drain_until)
                cmd(ctx, lb_id, "enable server %s; set server %s health down", full, full);
            continue;
        }
        if (ts[i].drain_until && strcmp(s->status, "DRAIN") != 0 && strncmp(s->status, "MAINT", 5) != 0)
            cmd(ctx, lb_id, "set server %s state drain%s", full, "");
        /* from the configuration of a new HAProxy (reloaded for a new rule, restarted), in
         * maintenance: a target that was healthy comes back up as it was (its checks go on, and take
         * it down if they fail); any other is held down until its checks pass */
        if (!ts[i].drain_until && strncmp(s->status, "MAINT", 5) == 0) {
            cmd(ctx, lb_id, "enable health %s%s", full, "");
            if (strcmp(ts[i].health, "healthy") == 0)
                cmd(ctx, lb_id, "enable server %s%s", full, "");
            else
                cmd(ctx, lb_id, "enable server %s; set server %s health down", full, full);
        }
        if (strncmp(s->status, "UP", 2) == 0 && strcmp(s->check_status, "INI") != 0 &&
            strcmp(ts[i].health, "healthy") != 0) {
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_stmt(ctx->db, &st, err,
                           "UPDATE elb_targets SET health = 'healthy', reason = '' WHERE tg_id = ? AND target = ? "
                           "AND port = ?",
                           "tti", tg->id, ts[i].target, (long long)ts[i].port) < 0)
                return -1;
            sqlite3_step(st);
        }
    }
    /* servers the store no longer has: out of rotation, their connections closed, removed */
    for (size_t j = 0; j < n; j++) {
        if (strcmp(ss[j].backend, backend) != 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < nt && !known; i++) {
            char name[80];
            elb_server_name(ts[i].target, ts[i].port, name);
            known = strcmp(name, ss[j].name) == 0;
        }
        if (known)
            continue;
        char full[128];
        snprintf(full, sizeof(full), "%s/%s", backend, ss[j].name);
        cmd(ctx, lb_id, "set server %s state maint%s", full, "");
        cmd(ctx, lb_id, "shutdown sessions server %s%s", full, "");
        cmd(ctx, lb_id, "del server %s%s", full, "");
    }
    return 0;
}

/* --- a load balancer ---------------------------------------------------------------------------------- */

int
elb_lb_plug(vm_ctx *ctx, const elb_lb *lb, vm_error *err)
{
    _cleanup_free_ elb_lb_subnet *subs = NULL;
    size_t n;
    char netns[32];
    elb_lb_netns(lb->id, netns);
    if (elb_lb_subnets(ctx, lb->id, &subs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (net_svc_eni_plug(ctx, subs[i].eni_id, netns, (unsigned)i, err) < 0)
            return -1;
    return 0;
}

static int
set_state(vm_ctx *ctx, const char *id, const char *state, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE elb_load_balancers SET state = ? WHERE id = ?", "tt", state, id) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "recording the load balancer's state", err);
}

static int
teardown(vm_ctx *ctx, const elb_lb *lb, vm_error *err)
{
    char netns[32], dir[512];
    elb_haproxy_stop(ctx, lb->id);
    if (elb_lb_forget(ctx, lb->id, err) < 0)
        return -1;
    elb_lb_netns(lb->id, netns);
    net_svc_netns_delete(netns);
    elb_lb_dir(ctx, lb->id, dir, sizeof(dir));
    static const char *const files[] = { "haproxy.cfg", "haproxy.cfg.new", "haproxy.pid", "admin.sock", "master.sock",
                                         "servers.state", "servers.state.new", NULL };
    for (const char *const *f = files; *f; f++) {
        char p[640];
        snprintf(p, sizeof(p), "%s/%s", dir, *f);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* The load balancer's HAProxy runs with the store's configuration and targets; 1 while it is being
 * brought up. */
static int
converge(vm_ctx *ctx, const elb_lb *lb, vm_error *err)
{
    long pid = elb_haproxy_pid(ctx, lb->id);
    if (!pid) {
        if (elb_lb_plug(ctx, lb, err) < 0 || elb_haproxy_start(ctx, lb, err) < 0)
            return -1;
        if (strcmp(lb->state, "active") != 0 && set_state(ctx, lb->id, "active", err) < 0)
            return -1;
        return 1; /* the new HAProxy's servers are checked from the next round */
    }
    if (strcmp(lb->state, "active") != 0 && set_state(ctx, lb->id, "active", err) < 0)
        return -1;
    int reloaded = elb_haproxy_reload(ctx, lb->id, err);
    if (reloaded < 0)
        return -1;
    if (reloaded)
        return 1; /* the new workers come up; servers are synced next round */
    _cleanup_free_ srv_stat *ss = NULL;
    size_t n;
    if (read_stats(ctx, lb->id, &ss, &n) < 0)
        return 1;
    _cleanup_free_ elb_tg *tgs = NULL;
    size_t ntg;
    if (elb_tgs(ctx, &tgs, &ntg, err) < 0)
        return -1;
    int busy = 0;
    for (size_t i = 0; i < ntg; i++) {
        char backend[40];
        snprintf(backend, sizeof(backend), "tg-%s", tgs[i].id);
        bool used = false;
        for (size_t j = 0; j < n && !used; j++)
            used = strcmp(ss[j].backend, backend) == 0;
        _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
        size_t nl;
        if (!used) { /* a backend with no server yet shows no server line: is it this LB's? */
            if (elb_lbs_of_tg(ctx, tgs[i].id, &lbs, &nl, err) < 0)
                return -1;
            for (size_t k = 0; k < nl && !used; k++)
                used = strcmp(lbs[k], lb->id) == 0;
        }
        if (used && sync_backend(ctx, lb->id, &tgs[i], ss, n, err) < 0)
            return -1;
    }
    elb_haproxy_save_state(ctx, lb->id);
    return busy;
}

/* Targets whose deregistration delay ended go (their servers leave HAProxy next round). */
static int
drained(vm_ctx *ctx, int *busy, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *c = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM elb_targets WHERE drain_until > 0 AND drain_until <= ?", &st, err) < 0 ||
        vm_db_prepare(ctx->db, "SELECT count(*) FROM elb_targets WHERE drain_until > 0", &c, err) < 0 ||
        vm_db_bind(st, err, "i", (long long)(time(NULL))) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "ending deregistrations", err);
    if (sqlite3_step(c) == SQLITE_ROW && sqlite3_column_int(c, 0) > 0)
        *busy = 1;
    return 0;
}

int
elb_controller_round(vm_ctx *ctx, vm_error *err)
{
    _cleanup_free_ elb_lb *lbs = NULL;
    size_t n;
    int busy = 0;
    if (drained(ctx, &busy, err) < 0 || elb_lbs(ctx, true, &lbs, &n, err) < 0)
        return -1;
    vm_error orphans = { 0 };
    if (elb_orphans_release(ctx, &orphans) < 0)
        fprintf(stderr, "vmmgr serve: releasing a load balancer's interface: %s\n", orphans.msg);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        vm_error e = { 0 };
        int r = lbs[i].deleting ? teardown(ctx, &lbs[i], &e) : converge(ctx, &lbs[i], &e);
        if (r < 0) {
            fprintf(stderr, "vmmgr serve: load balancer %s: %s\n", lbs[i].name, e.msg);
            rc = -1;
            busy = 1;
        } else if (r > 0 || strcmp(lbs[i].state, "active") != 0) {
            busy = 1;
        }
    }
    (void)err;
    return rc < 0 ? 1 : busy;
}
