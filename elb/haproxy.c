/* One HAProxy (master-worker) per load balancer, inside the load balancer's network namespace: its
 * configuration rendered from the store, its admin socket (the runtime API: servers added, drained
 * and removed without a reload, health read back), its master socket (seamless reloads).  Everything
 * lives in <state>/elb/<id>/: haproxy.cfg, admin.sock, master.sock, haproxy.pid, servers.state (the
 * servers' last state, which a restarted or reloaded HAProxy starts from). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../acm/acm.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "elb.h"

void
elb_lb_dir(const vm_ctx *ctx, const char *lb_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/elb/%s", ctx->state_dir, lb_id);
}

void
elb_lb_netns(const char *lb_id, char buf[32])
{
    snprintf(buf, 32, "vmmgr-lb-%s", lb_id);
}

void
elb_server_name(const char *target, long port, char buf[80])
{
    snprintf(buf, 80, "%s_%ld", target, port);
}

/* --- the configuration ---------------------------------------------------------------------------- */

/* A word HAProxy reads literally: single-quoted (no escapes or variables inside), a quote itself
 * closed, given double-quoted, and reopened. */
static void
put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\"'\"'", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* A path or host pattern (ELB's: '*' any characters, '?' one) as an anchored regular expression;
 * characters with a meaning in a regex are given as one-character classes (no backslashes, which
 * HAProxy's parser would take). */
static void
put_glob_alternatives(FILE *f, const char *list, bool host)
{
    fputs("^(", f);
    bool first = true;
    for (const char *p = list; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!first)
            fputc('|', f);
        first = false;
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            if (c == '*')
                fputs(".*", f);
            else if (c == '?')
                fputc('.', f);
            else if (strchr(".+()[]{}|^$", c))
                fprintf(f, "[%c]", c);
            else
                fputc(c, f);
        }
        p += n + (end ? 1 : 0);
    }
    fputs(host ? ")(:[0-9]+)?$" : ")$", f);
}

/* Matcher "200,202,300-310" as ^(200|202|300|…|310)$ */
static void
put_matcher(FILE *f, const char *m)
{
    fputs("^(", f);
    bool first = true;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", m);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long lo = strtol(tok, NULL, 10), hi = lo;
        const char *dash = strchr(tok, '-');
        if (dash)
            hi = strtol(dash + 1, NULL, 10);
        for (long c = lo; c <= hi && c < 600; c++) {
            fprintf(f, "%s%ld", first ? "" : "|", c);
            first = false;
        }
    }
    fputs(")$", f);
}

#define PICK_RANGE 1000000 /* txn.pick: where a request falls among weighted target groups */

/* The backends of a forward action, each under cond (an ACL expression or NULL): weighted, the
 * request's txn.pick chooses; the last group with weight takes what the others leave. */
static void
put_forward(FILE *f, const elb_action *a, const char *cond, bool is_default)
{
    long total = 0, cum = 0;
    size_t last = 0;
    for (size_t k = 0; k < a->nfwd; k++)
        if (a->fwd[k].weight > 0) {
            total += a->fwd[k].weight;
            last = k;
        }
    /* sticky: the group the client's cookie names, while it still has a weight */
    for (size_t k = 0; a->stick_seconds > 0 && a->nfwd > 1 && k < a->nfwd; k++)
        if (a->fwd[k].weight > 0)
            fprintf(f, "  use_backend tg-%s if %s%s{ req.cook(" ELB_STICK_COOKIE ") -m str tg-%s }\n", a->fwd[k].tg_id,
                    cond ? cond : "", cond ? " " : "", a->fwd[k].tg_id);
    for (size_t k = 0; k < a->nfwd; k++) {
        if (a->fwd[k].weight <= 0)
            continue;
        cum += a->fwd[k].weight;
        if (k == last) {
            if (is_default)
                fprintf(f, "  default_backend tg-%s\n", a->fwd[k].tg_id);
            else
                fprintf(f, "  use_backend tg-%s if %s\n", a->fwd[k].tg_id, cond);
        } else {
            fprintf(f, "  use_backend tg-%s if %s%s{ var(txn.pick) -m int lt %ld }\n", a->fwd[k].tg_id,
                    cond ? cond : "", cond ? " " : "", cum * PICK_RANGE / total);
        }
    }
}

/* A sticky forward's answers name the target group that served them, for the client's next requests
 * (renewed with each answer, as AWS does) */
static void
put_stick_cookie(FILE *f, const elb_action *a, const char *cond)
{
    if (strcmp(a->type, "forward") != 0 || a->stick_seconds <= 0 || a->nfwd < 2)
        return;
    fprintf(f, "  http-response add-header Set-Cookie \"" ELB_STICK_COOKIE "=%%[be_name]; Max-Age=%ld; Path=/\" if %s\n",
            a->stick_seconds, cond);
}

/* A redirect's Location as an HAProxy log-format: each #{part} of the request as the sample that gives
 * it, % doubled.  #{protocol} is the listener's. */
static void
put_redirect_part(FILE *f, const char *v, bool https)
{
    static const struct {
        const char *form, *sample;
    } subst[] = {
        { "#{protocol}", NULL },
        { "#{host}", "%[req.hdr(host),field(1,:)]" },
        { "#{port}", "%[dst_port]" },
        { "#{path}", "%[path,regsub(^/,)]" },
        { "#{query}", "%[query]" },
    };
    while (*v) {
        size_t k = 0, n = sizeof(subst) / sizeof(subst[0]);
        for (; k < n && strncmp(v, subst[k].form, strlen(subst[k].form)) != 0; k++)
            ;
        if (k < n) {
            fputs(subst[k].sample ? subst[k].sample : https ? "https" : "http", f);
            v += strlen(subst[k].form);
        } else {
            fputs(*v == '%' ? "%%" : (char[]){ *v, 0 }, f);
            v++;
        }
    }
}

static void
put_redirect(FILE *f, const struct elb_redirect *r, const char *cond, bool https)
{
    bool proto_https = strcmp(r->protocol, "HTTPS") == 0 || (strcmp(r->protocol, "#{protocol}") == 0 && https);
    bool proto_http = !proto_https;
    bool default_port = (proto_http && strcmp(r->port, "80") == 0) || (!proto_http && strcmp(r->port, "443") == 0);
    /* with the request's own query, a request without one gets no "?" */
    bool own_query = strcmp(r->query, "#{query}") == 0;
    for (int with_query = own_query ? 1 : 0; with_query >= 0; with_query--) {
        fputs("  http-request redirect location \"", f);
        fputs(proto_https ? "https" : "http", f);
        fputs("://", f);
        put_redirect_part(f, r->host, https);
        if (!default_port) {
            fputc(':', f);
            put_redirect_part(f, r->port, https);
        }
        put_redirect_part(f, r->path, https);
        if (r->query[0] && (!own_query || with_query)) {
            fputc('?', f);
            put_redirect_part(f, r->query, https);
        }
        fprintf(f, "\" code %s if %s%s\n", strcmp(r->code, "HTTP_302") == 0 ? "302" : "301", cond,
                own_query && with_query ? " { query -m found }" : "");
        if (!own_query)
            break;
    }
}

/* A fixed-response or redirect action, under cond */
static void
put_http_request_action(FILE *f, const elb_action *a, const char *cond, bool https)
{
    if (strcmp(a->type, "redirect") == 0) {
        put_redirect(f, &a->redirect, cond, https);
        return;
    }
    fprintf(f, "  http-request return status %s content-type ", a->status);
    put_quoted(f, a->content_type[0] ? a->content_type : "text/plain");
    if (a->body[0]) {
        fputs(" string ", f);
        put_quoted(f, a->body);
    }
    fprintf(f, " if %s\n", cond);
}

bool
elb_proto_http(const char *protocol)
{
    return strcmp(protocol, "HTTP") == 0 || strcmp(protocol, "HTTPS") == 0;
}

bool
elb_proto_tls(const char *protocol)
{
    return strcmp(protocol, "HTTPS") == 0 || strcmp(protocol, "TLS") == 0;
}

void
elb_server_opts(const elb_tg *tg, char *buf, size_t len)
{
    int o = snprintf(buf, len, "check inter %lds rise %ld fall %ld", tg->hc_interval, tg->healthy, tg->unhealthy);
    if (o > 0 && (size_t)o < len && strcmp(tg->hc_port, "traffic-port") != 0)
        o += snprintf(buf + o, len - (size_t)o, " port %s", tg->hc_port);
    if (o > 0 && (size_t)o < len && elb_proto_tls(tg->protocol))
        o += snprintf(buf + o, len - (size_t)o, " ssl verify none");
    /* an HTTPS check over TLS on any port; to a TLS target on its own port, HAProxy checks over TLS
     * anyway (the runtime API takes no no-check-ssl: dynamic servers have no defaults to undo) */
    if (o > 0 && (size_t)o < len && strcmp(tg->hc_protocol, "HTTPS") == 0)
        snprintf(buf + o, len - (size_t)o, " check-ssl");
}

static void
put_server(FILE *f, const elb_tg *tg, const elb_target *t)
{
    char name[80], opts[160];
    elb_server_name(t->target, t->port, name);
    elb_server_opts(tg, opts, sizeof(opts));
    fprintf(f, "  server %s %s:%ld %s", name, t->ip, t->port, opts);
    /* in maintenance until the controller enables it held down (HAProxy would start a server of
     * its configuration UP, before any check); servers.state brings back the state of the ones the
     * last HAProxy had */
    fputs(" disabled", f);
    if (t->drain_until)
        fputs(" weight 0", f);
    fputc('\n', f);
}

/* The backend of a target group: its balancing, its health check and its targets. */
static int
put_backend(vm_ctx *ctx, FILE *f, const elb_lb *lb, const char *tg_id, vm_error *err)
{
    elb_tg tg;
    if (elb_tg_get(ctx, tg_id, &tg, err) < 0)
        return -1;
    bool http = strcmp(lb->type, "application") == 0;
    fprintf(f, "\nbackend tg-%s\n  mode %s\n", tg.id, http ? "http" : "tcp");
    _cleanup_free_ char *algo = elb_attr_get(ctx, tg.id, "load_balancing.algorithm.type");
    fprintf(f, "  balance %s\n", algo && strcmp(algo, "least_outstanding_requests") == 0 ? "leastconn" : "roundrobin");
    if (strcmp(tg.hc_protocol, "HTTP") == 0 || strcmp(tg.hc_protocol, "HTTPS") == 0) {
        fputs("  option httpchk\n  http-check send meth GET uri ", f);
        put_quoted(f, tg.hc_path);
        fprintf(f, " ver HTTP/1.1 hdr Host %s\n  http-check expect rstatus ", lb->dns_name);
        put_matcher(f, tg.matcher);
        fputc('\n', f);
    }
    fprintf(f, "  timeout check %lds\n", tg.hc_timeout);
    if (http && elb_attr_bool(ctx, tg.id, "stickiness.enabled", false))
        fputs("  cookie AWSALB insert indirect nocache\n", f);
    _cleanup_free_ elb_target *ts = NULL;
    size_t n;
    if (elb_targets_of(ctx, tg.id, &ts, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        put_server(f, &tg, &ts[i]);
    return 0;
}

char *
elb_haproxy_config(vm_ctx *ctx, const elb_lb *lb, vm_error *err)
{
    char dir[512];
    elb_lb_dir(ctx, lb->id, dir, sizeof(dir));
    _cleanup_free_ elb_listener *ls = NULL;
    size_t nl;
    if (elb_listeners_of(ctx, lb->id, &ls, &nl, err) < 0)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot render the load balancer's configuration");
        return NULL;
    }
    bool http = strcmp(lb->type, "application") == 0;
    long idle = elb_attr_long(ctx, lb->id, "idle_timeout.timeout_seconds", 60);
    fprintf(f,
            "# vmmgr: load balancer %s (%s), rendered from the store; changes here are overwritten\n"
            "global\n"
            "  stats socket %s/admin.sock mode 600 level admin expose-fd listeners\n"
            "  server-state-file %s/servers.state\n"
            "  hard-stop-after 30s\n"
            "\ndefaults\n"
            "  timeout connect 5s\n"
            "  timeout client %lds\n"
            "  timeout server %lds\n"
            "  load-server-state-from-file global\n",
            lb->name, lb->id, dir, dir, idle, idle);
    /* the target groups any listener or rule forwards to, each once */
    char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t ntg = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nl; i++) {
        bool https = strcmp(ls[i].protocol, "HTTPS") == 0;
        fprintf(f, "\nfrontend ln-%s\n  mode %s\n  bind :%ld", ls[i].id, http ? "http" : "tcp", ls[i].port);
        /* HTTPS, or a network load balancer's TLS (what it decrypts goes on to the targets as TCP): the
         * certificate, its chain and its key as one file beside the configuration */
        if (https || strcmp(ls[i].protocol, "TLS") == 0) {
            char pem[600];
            snprintf(pem, sizeof(pem), "%s/cert-%s.pem", dir, ls[i].id);
            time_t imported = 0;
            if ((rc = acm_cert_write_pem(ctx, ls[i].certificate_id, pem, &imported, err)) < 0)
                break;
            const char *min = elb_ssl_policy_min(ls[i].ssl_policy);
            fprintf(f, " ssl ssl-min-ver %s crt %s", min ? min : "TLSv1.2", pem);
            /* the others, which HAProxy chooses by the name the client asks for (SNI); each import's
             * time in the configuration, so a certificate imported again reloads HAProxy */
            char(*more)[40] = NULL;
            size_t nmore = 0;
            if ((rc = elb_listener_certs(ctx, ls[i].id, &more, &nmore, err)) < 0)
                break;
            char stamps[32 * (ELB_LISTENER_CERTS_MAX + 1)];
            int o = snprintf(stamps, sizeof(stamps), "%lld", (long long)imported);
            for (size_t k = 0; rc == 0 && k < nmore; k++) {
                snprintf(pem, sizeof(pem), "%s/cert-%s-%s.pem", dir, ls[i].id, more[k]);
                if ((rc = acm_cert_write_pem(ctx, more[k], pem, &imported, err)) == 0) {
                    fprintf(f, " crt %s", pem);
                    if (o > 0 && (size_t)o < sizeof(stamps))
                        o += snprintf(stamps + o, sizeof(stamps) - (size_t)o, " %lld", (long long)imported);
                }
            }
            free(more);
            if (rc < 0)
                break;
            fprintf(f, "\n  # certificates imported at %s", stamps);
        }
        fputc('\n', f);
        if (http)
            fprintf(f, "  option forwardfor\n  http-request set-header X-Forwarded-Proto %s\n"
                       "  http-request set-header X-Forwarded-Port %%[dst_port]\n",
                    https ? "https" : "http");
        _cleanup_free_ elb_rule *rs = NULL;
        size_t nr;
        if ((rc = elb_rules_of(ctx, ls[i].id, &rs, &nr, err)) < 0)
            break;
        /* the rules in priority order: the first whose conditions match is the request's (txn.rule);
         * then each action under its rule, the listener's under none */
        bool weighted = ls[i].action.nfwd > 1;
        for (size_t j = 0; http && j < nr; j++) {
            const elb_rule *r = &rs[j];
            weighted |= r->action.nfwd > 1;
            if (r->paths[0]) {
                fprintf(f, "  acl r%zup path -m reg ", j);
                put_glob_alternatives(f, r->paths, false);
                fputc('\n', f);
            }
            if (r->hosts[0]) {
                fprintf(f, "  acl r%zuh hdr(host) -m reg -i ", j);
                put_glob_alternatives(f, r->hosts, true);
                fputc('\n', f);
            }
            char match[64] = "";
            if (r->paths[0])
                snprintf(match, sizeof(match), " r%zup", j);
            if (r->hosts[0]) {
                size_t o = strlen(match);
                snprintf(match + o, sizeof(match) - o, " r%zuh", j);
            }
            fprintf(f, "  http-request set-var(txn.rule) int(%zu) if !{ var(txn.rule) -m found }%s\n", j, match);
        }
        if (weighted)
            fprintf(f, "  http-request set-var(txn.pick) rand(%d)\n", PICK_RANGE);
        for (size_t j = 0; http && j < nr; j++) {
            char cond[64];
            snprintf(cond, sizeof(cond), "{ var(txn.rule) -m int %zu }", j);
            if (strcmp(rs[j].action.type, "forward") != 0)
                put_http_request_action(f, &rs[j].action, cond, https);
        }
        if (strcmp(ls[i].action.type, "forward") != 0)
            put_http_request_action(f, &ls[i].action, "!{ var(txn.rule) -m found }", https);
        for (size_t j = 0; http && j < nr; j++) {
            char cond[64];
            snprintf(cond, sizeof(cond), "{ var(txn.rule) -m int %zu }", j);
            if (strcmp(rs[j].action.type, "forward") == 0)
                put_forward(f, &rs[j].action, cond, false);
        }
        if (strcmp(ls[i].action.type, "forward") == 0)
            put_forward(f, &ls[i].action, NULL, true);
        for (size_t j = 0; http && j < nr; j++) {
            char cond[64];
            snprintf(cond, sizeof(cond), "{ var(txn.rule) -m int %zu }", j);
            put_stick_cookie(f, &rs[j].action, cond);
        }
        if (http)
            put_stick_cookie(f, &ls[i].action, "!{ var(txn.rule) -m found }");
        /* the target groups any action forwards to, each once */
        for (size_t j = 0; rc == 0 && j <= nr; j++) {
            const elb_action *a = j < nr ? &rs[j].action : &ls[i].action;
            for (size_t g = 0; rc == 0 && g < a->nfwd; g++) {
                bool seen = false;
                for (size_t k = 0; k < ntg; k++)
                    seen |= strcmp(tgs[k], a->fwd[g].tg_id) == 0;
                if (seen)
                    continue;
                char(*v)[ELB_ID_LEN + 1] = realloc(tgs, (ntg + 1) * sizeof(*tgs));
                if (!v) {
                    rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
                    break;
                }
                tgs = v;
                snprintf(tgs[ntg++], ELB_ID_LEN + 1, "%s", a->fwd[g].tg_id);
            }
        }
    }
    for (size_t k = 0; rc == 0 && k < ntg; k++)
        rc = put_backend(ctx, f, lb, tgs[k], err);
    free(tgs);
    fclose(f);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* --- the sockets ---------------------------------------------------------------------------------- */

static char *
sock_cmd(const char *path, const char *cmd, vm_error *err)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(a.sun_path)) {
        vm_error_set(err, VM_ERR_INTERNAL, "the socket path %s is too long", path);
        return NULL;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "socket");
        return NULL;
    }
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        vm_error_set_errno(err, errno, VM_ERR_UNAVAILABLE, "HAProxy does not answer on %s", path);
        close(fd);
        return NULL;
    }
    size_t cl = strlen(cmd);
    _cleanup_free_ char *line = malloc(cl + 2);
    if (!line) {
        close(fd);
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    memcpy(line, cmd, cl);
    line[cl] = '\n';
    if (write(fd, line, cl + 1) != (ssize_t)(cl + 1)) {
        vm_error_set_errno(err, errno, VM_ERR_UNAVAILABLE, "writing to %s", path);
        close(fd);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    for (;;) {
        char chunk[8192];
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char *o = realloc(out, len + (size_t)r + 1);
        if (!o)
            break;
        out = o;
        memcpy(out + len, chunk, (size_t)r);
        len += (size_t)r;
        out[len] = '\0';
    }
    close(fd);
    if (!out)
        out = strdup("");
    return out;
}

char *
elb_haproxy_cmd(vm_ctx *ctx, const char *lb_id, const char *cmd, vm_error *err)
{
    char dir[512], path[600];
    elb_lb_dir(ctx, lb_id, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/admin.sock", dir);
    return sock_cmd(path, cmd, err);
}

/* --- the process ---------------------------------------------------------------------------------- */

long
elb_haproxy_pid(vm_ctx *ctx, const char *lb_id)
{
    char dir[512], path[600], comm[32] = "";
    elb_lb_dir(ctx, lb_id, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/haproxy.pid", dir);
    long pid = vm_pid_file_read(path);
    if (!pid)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    _cleanup_fclose_ FILE *c = fopen(path, "re");
    if (!c || !fgets(comm, sizeof(comm), c) || strncmp(comm, "haproxy", 7) != 0)
        return 0;
    /* a process of another namespace (a reused pid) is not ours */
    char ns[64], nsname[32];
    snprintf(ns, sizeof(ns), "/proc/%ld/ns/net", pid);
    elb_lb_netns(lb_id, nsname);
    snprintf(path, sizeof(path), "/run/netns/%s", nsname);
    struct stat a, b;
    if (stat(ns, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        return 0;
    return pid;
}

/* Every process left in the namespace (workers of a master that was killed): ours, by pid. */
static void
kill_leftovers(const char *netns)
{
    const char *argv[] = { "ip", "netns", "pids", netns, NULL };
    _cleanup_free_ char *out = NULL;
    vm_error ignore = { 0 };
    vm_cmd_limits lim = { .timeout_sec = 10 };
    if (vm_cmd_run(argv, &lim, &out, &ignore) < 0 || !out)
        return;
    for (char *p = out; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 1)
            kill((pid_t)pid, SIGKILL);
        p = end;
        while (*p == '\n' || *p == ' ')
            p++;
    }
    /* they are gone before a new master binds the same ports */
    for (int i = 0; i < 50; i++) {
        _cleanup_free_ char *again = NULL;
        vm_error e2 = { 0 };
        if (vm_cmd_run(argv, &lim, &again, &e2) < 0 || !again || !*again)
            return;
        usleep(20000);
    }
}

static int
write_config(const char *dir, const char *cfg, vm_error *err)
{
    char path[600], tmp[640];
    snprintf(path, sizeof(path), "%s/haproxy.cfg", dir);
    snprintf(tmp, sizeof(tmp), "%s/haproxy.cfg.new", dir);
    _cleanup_fclose_ FILE *f = fopen(tmp, "we");
    if (!f || fputs(cfg, f) < 0 || fflush(f) != 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "writing %s", tmp);
    const char *check[] = { "haproxy", "-c", "-q", "-f", tmp, NULL };
    vm_cmd_limits lim = { .timeout_sec = 20 };
    if (vm_cmd_run(check, &lim, NULL, err) < 0)
        return -1;
    if (rename(tmp, path) < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "renaming %s", tmp);
    return 0;
}

/* The servers' state now, for the next HAProxy to start from. */
static void
save_state(vm_ctx *ctx, const char *lb_id, const char *dir)
{
    vm_error ignore = { 0 };
    _cleanup_free_ char *st = elb_haproxy_cmd(ctx, lb_id, "show servers state", &ignore);
    if (!st || strncmp(st, "1\n", 2) != 0)
        return;
    char path[600], tmp[640];
    snprintf(path, sizeof(path), "%s/servers.state", dir);
    snprintf(tmp, sizeof(tmp), "%s/servers.state.new", dir);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    bool ok = fputs(st, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (ok)
        rename(tmp, path);
}

/* The configuration without its server lines: servers change through the runtime API, only the
 * rest needs a reload. */
static char *
without_servers(const char *cfg)
{
    char *out = malloc(strlen(cfg) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = cfg; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        if (strncmp(p, "  server ", 9) != 0) {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

/* 1 when the rendered configuration differs from the one on disk in more than its servers (*ret_cfg:
 * the rendered one), 0 when not. */
static int
config_changed(vm_ctx *ctx, const elb_lb *lb, const char *dir, char **ret_cfg, vm_error *err)
{
    _cleanup_free_ char *cfg = elb_haproxy_config(ctx, lb, err);
    if (!cfg)
        return -1;
    char path[600];
    snprintf(path, sizeof(path), "%s/haproxy.cfg", dir);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    _cleanup_free_ char *old = NULL;
    size_t cap = 0;
    ssize_t n = f ? getdelim(&old, &cap, '\0', f) : -1;
    int changed = 1;
    if (n >= 0) {
        _cleanup_free_ char *a = without_servers(old), *b = without_servers(cfg);
        changed = !a || !b || strcmp(a, b) != 0;
    }
    *ret_cfg = TAKE_PTR(cfg);
    return changed;
}

int
elb_haproxy_start(vm_ctx *ctx, const elb_lb *lb, vm_error *err)
{
    char dir[512], cfgp[600], pidp[600], master[600], netns[32], nsarg[64];
    elb_lb_dir(ctx, lb->id, dir, sizeof(dir));
    elb_lb_netns(lb->id, netns);
    char parent[512];
    snprintf(parent, sizeof(parent), "%s/elb", ctx->state_dir);
    mkdir(parent, 0700);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "creating %s", dir);
    _cleanup_free_ char *cfg = NULL;
    if (config_changed(ctx, lb, dir, &cfg, err) < 0 || write_config(dir, cfg, err) < 0)
        return -1;
    kill_leftovers(netns);
    snprintf(cfgp, sizeof(cfgp), "%s/haproxy.cfg", dir);
    snprintf(pidp, sizeof(pidp), "%s/haproxy.pid", dir);
    snprintf(master, sizeof(master), "%s/master.sock", dir);
    snprintf(nsarg, sizeof(nsarg), "--net=/run/netns/%s", netns);
    unlink(master);
    /* master-worker, daemon: it outlives `vmmgr serve`, which finds it again by its pid file */
    const char *argv[] = { "nsenter", nsarg, "haproxy", "-W", "-D", "-q", "-f", cfgp, "-p", pidp, "-S", master, NULL };
    vm_cmd_limits lim = { .timeout_sec = 30 };
    return vm_cmd_run(argv, &lim, NULL, err);
}

int
elb_haproxy_reload(vm_ctx *ctx, const char *lb_id, vm_error *err)
{
    char dir[512], master[600];
    elb_lb_dir(ctx, lb_id, dir, sizeof(dir));
    elb_lb lb;
    if (elb_lb_get(ctx, lb_id, &lb, err) < 0)
        return -1;
    _cleanup_free_ char *cfg = NULL;
    int changed = config_changed(ctx, &lb, dir, &cfg, err);
    if (changed <= 0)
        return changed;
    save_state(ctx, lb_id, dir);
    if (write_config(dir, cfg, err) < 0)
        return -1;
    snprintf(master, sizeof(master), "%s/master.sock", dir);
    _cleanup_free_ char *out = sock_cmd(master, "reload", err);
    return out ? 1 : -1;
}

void
elb_haproxy_stop(vm_ctx *ctx, const char *lb_id)
{
    char netns[32];
    elb_lb_netns(lb_id, netns);
    long pid = elb_haproxy_pid(ctx, lb_id);
    if (pid)
        kill((pid_t)pid, SIGKILL);
    kill_leftovers(netns);
}

void
elb_haproxy_save_state(vm_ctx *ctx, const char *lb_id)
{
    char dir[512];
    elb_lb_dir(ctx, lb_id, dir, sizeof(dir));
    save_state(ctx, lb_id, dir);
}
