#include "http.h"

#include "../core/audit.h"
#include "../services/service.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "../core/cleanup.h"
#include "../core/ctx.h"
#include "../core/keys.h"
#include "protocol.h"
#include "query.h"
#include "reqstats.h"
#include "sigv4.h"

struct api_server {
    struct MHD_Daemon *mhd;
    struct MHD_Daemon *metrics; /* GET /metrics (Prometheus), when asked for */
    api_metrics_fn metrics_fn;
    char region[32];
    pthread_mutex_t lock;
    pthread_cond_t freed;
    vm_ctx **pool; /* contexts not in use */
    size_t npool, nctx;
    vm_ctx **all;
    atomic_int inflight;
};

typedef struct conn_state {
    char *body;
    size_t len, cap;
    bool too_large;
} conn_state;

static vm_ctx *
ctx_take(api_server *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->npool == 0)
        pthread_cond_wait(&s->freed, &s->lock);
    vm_ctx *ctx = s->pool[--s->npool];
    pthread_mutex_unlock(&s->lock);
    return ctx;
}

static void
ctx_give(api_server *s, vm_ctx *ctx)
{
    pthread_mutex_lock(&s->lock);
    s->pool[s->npool++] = ctx;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

static char *
lookup_secret(void *opaque, const char *akid)
{
    return vm_key_secret(opaque, akid);
}

typedef struct header_list {
    api_header *v;
    size_t n, cap;
} header_list;

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    header_list *h = cls;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        api_header *nv = realloc(h->v, cap * sizeof(api_header));
        if (!nv)
            return MHD_NO;
        h->v = nv;
        h->cap = cap;
    }
    h->v[h->n].name = key;
    h->v[h->n].value = value ? value : "";
    h->n++;
    return MHD_YES;
}

typedef struct query_builder {
    char *buf;
    size_t len, cap;
    bool oom;
} query_builder;

/* MHD hands GET arguments decoded; encode them again for SigV4's canonical query and the decoder. */
static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_builder *q = cls;
    _cleanup_free_ char *k = api_uri_encode(key, false);
    _cleanup_free_ char *v = api_uri_encode(value ? value : "", false);
    if (!k || !v) {
        q->oom = true;
        return MHD_NO;
    }
    size_t need = strlen(k) + strlen(v) + 3;
    if (q->len + need > q->cap) {
        size_t cap = 2 * (q->len + need);
        char *nb = realloc(q->buf, cap);
        if (!nb) {
            q->oom = true;
            return MHD_NO;
        }
        q->buf = nb;
        q->cap = cap;
    }
    q->len += (size_t)sprintf(q->buf + q->len, "%s%s=%s", q->len ? "&" : "", k, v);
    return MHD_YES;
}

/* query_error: the x-amzn-query-error value of an error answer, NULL for none */
static enum MHD_Result
respond(struct MHD_Connection *c, int status, char *body, size_t len, const char *content_type,
        const char *request_id, const char *query_error)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type);
    MHD_add_response_header(r, "x-amzn-RequestId", request_id);
    if (query_error)
        MHD_add_response_header(r, "x-amzn-query-error", query_error);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* the error in the shape of the service the request was signed for, in the protocol it spoke */
static enum MHD_Result
respond_error(struct MHD_Connection *c, const svc_desc *svc, const api_protocol *proto, const vm_error *e,
              const char *request_id)
{
    char *out = NULL;
    size_t len = 0;
    vm_error ignore = { 0 };
    if (proto->encode_error(e, svc, request_id, &out, &len, &ignore) < 0)
        return MHD_NO;
    int status = vm_error_http_status(e->code);
    char qe[128];
    snprintf(qe, sizeof(qe), "%s;%s", vm_error_code_name(e->code), status >= 500 ? "Receiver" : "Sender");
    return respond(c, status, out, len, proto->content_type, request_id, proto->query_error_header ? qe : NULL);
}

static void
log_request(const svc_desc *svc, const char *method, const char *action, const char *principal, int status,
            double ms)
{
    /* one line per request; principal is an access key id, never a secret */
    fprintf(stderr, "vmmgr serve: %s %s %s -> %d (%.1f ms)\n", method, action[0] ? action : "-",
            principal[0] ? principal : "-", status, ms);
    api_reqstats_record(svc->signing_name, action, status, ms / 1e3);
}

static enum MHD_Result
handle(api_server *s, struct MHD_Connection *c, const char *url, const char *method, conn_state *st)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char request_id[37];
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, request_id);
    vm_error err = { 0 };
    char principal[API_KEY_MAX] = "";
    char action[64] = "";
    enum MHD_Result ret;
    header_list headers = { 0 };
    query_builder q = { 0 };
    vm_params *args = NULL;
    const svc_desc *svc = &svc_ec2;
    const api_protocol *proto = api_protocol_for(svc, NULL);

    if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0) {
        vm_error_set(&err, VM_ERR_INVALID_ACTION, "method %s is not supported; send POST or GET", method);
        goto error;
    }
    if (st->too_large) {
        vm_error_set(&err, VM_ERR_TOO_LARGE, "the request body is larger than %d bytes", API_MAX_BODY);
        goto error;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    if (q.oom) {
        vm_error_set(&err, VM_ERR_INTERNAL, "out of memory");
        goto error;
    }
    api_request req = {
        .method = method,
        .path = url,
        .query = q.buf ? q.buf : "",
        .headers = headers.v,
        .nheaders = headers.n,
        .body = (const unsigned char *)st->body,
        .body_len = st->len,
    };
    /* routed on the credential scope's service before anything else; its signing name verifies it */
    char scoped[64];
    if (api_sigv4_scope_service(&req, scoped) == 0 && !(svc = svc_find(scoped))) {
        svc = &svc_ec2;
        proto = api_protocol_for(svc, NULL);
        vm_error_set(&err, VM_ERR_SIGNATURE_MISMATCH, "this endpoint offers no service '%s' (it offers ec2, sts and monitoring)",
                     scoped);
        goto error;
    }
    proto = api_protocol_for(svc, &req);
    vm_ctx *ctx = ctx_take(s);
    int vrc = api_sigv4_verify(&req, s->region, svc->signing_name, time(NULL), lookup_secret, ctx, principal, &err);
    if (vrc < 0) {
        ctx_give(s, ctx);
        goto error;
    }
    char version[32] = "";
    args = vm_params_new();
    if (!args) {
        ctx_give(s, ctx);
        vm_error_set(&err, VM_ERR_INTERNAL, "out of memory");
        goto error;
    }
    if (proto->decode(&req, svc, action, version, args, &err) < 0) {
        ctx_give(s, ctx);
        goto error;
    }
    vm_node *resp = NULL;
    char *out = NULL;
    size_t len = 0;
    vm_ctx_config_refresh(ctx);
    int rc = svc_call(svc, ctx, principal, action, version, args, &resp, &err);
    if (rc == 0)
        rc = proto->encode(resp, action, svc, request_id, &out, &len, &err);
    vm_node_free(resp);
    ctx_give(s, ctx);
    if (rc < 0)
        goto error;
    ret = respond(c, 200, out, len, proto->content_type, request_id, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_request(svc, method, action, principal, 200, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    goto out;
error:
    ret = respond_error(c, svc, proto, &err, request_id);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_request(svc, method, action, principal, vm_error_http_status(err.code),
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
out:
    vm_params_free(args);
    free(headers.v);
    free(q.buf);
    return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
               const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    api_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) {
        if (!(st = calloc(1, sizeof(*st))))
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_large && st->len + *upload_size > API_MAX_BODY) {
            st->too_large = true;
            free(st->body);
            st->body = NULL;
            st->len = st->cap = 0;
        }
        if (!st->too_large) {
            if (st->len + *upload_size > st->cap) {
                size_t cap = 2 * (st->len + *upload_size);
                char *nb = realloc(st->body, cap);
                if (!nb)
                    return MHD_NO;
                st->body = nb;
                st->cap = cap;
            }
            memcpy(st->body + st->len, upload_data, *upload_size);
            st->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&s->inflight, 1);
    enum MHD_Result r = handle(s, c, url, method, st);
    atomic_fetch_sub(&s->inflight, 1);
    return r;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* The metrics listener: GET /metrics only, no SigV4 (it answers on its own address, 127.0.0.1 by
 * default); one context from the workers' pool while it renders. */
static enum MHD_Result
metrics_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                const char *upload, size_t *upload_len, void **con_cls)
{
    (void)version, (void)upload, (void)con_cls;
    api_server *s = cls;
    if (*upload_len)
        return MHD_NO;
    if (strcmp(url, "/metrics") != 0 || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        static char nf[] = "only GET /metrics here\n";
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(nf), nf, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return ret;
    }
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    vm_error err = { 0 };
    int rc = -1;
    if (f) {
        vm_ctx *ctx = ctx_take(s);
        rc = s->metrics_fn(ctx, f, &err);
        ctx_give(s, ctx);
        api_reqstats_write(f);
        rc = fclose(f) == 0 ? rc : -1;
    }
    int status = rc == 0 ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (rc < 0) {
        free(out);
        out = NULL;
        if (asprintf(&out, "vmmgr: %s\n", err.msg[0] ? err.msg : "out of memory") < 0)
            out = NULL;
        len = out ? strlen(out) : 0;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, out ? out : "", out ? MHD_RESPMEM_MUST_FREE
                                                                                      : MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int
parse_addr(const char *address, uint16_t port, struct sockaddr_in *sa, vm_error *err)
{
    *sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, address, &sa->sin_addr) != 1)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "'%s' is not an IPv4 address", address);
    return 0;
}

api_server *
api_server_start(const api_config *cfg, vm_error *err)
{
    api_server *s = calloc(1, sizeof(*s));
    if (!s) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    snprintf(s->region, sizeof(s->region), "%s", cfg->region);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    unsigned workers = cfg->workers ? cfg->workers : 4;
    s->nctx = workers;
    s->pool = calloc(workers, sizeof(vm_ctx *));
    s->all = calloc(workers, sizeof(vm_ctx *));
    if (!s->pool || !s->all) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < workers; i++) {
        if (!(s->all[i] = vm_ctx_new(cfg->state_dir, cfg->uri, err)))
            goto fail;
        s->all[i]->keepalive = true;
        s->all[i]->reconciled_elsewhere = cfg->reconciled_elsewhere;
        s->pool[s->npool++] = s->all[i];
    }
    struct sockaddr_in sa;
    if (parse_addr(cfg->address, cfg->port, &sa, err) < 0)
        goto fail;
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, cfg->port, NULL,
                              NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_THREAD_POOL_SIZE, workers, MHD_OPTION_CONNECTION_LIMIT, 256,
                              MHD_OPTION_CONNECTION_TIMEOUT, 60, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                              MHD_OPTION_END);
    if (!s->mhd) {
        vm_error_set(err, VM_ERR_INTERNAL, "cannot listen on %s:%u", cfg->address, cfg->port);
        goto fail;
    }
    if (cfg->metrics_address) {
        struct sockaddr_in ma;
        if (parse_addr(cfg->metrics_address, cfg->metrics_port, &ma, err) < 0)
            goto fail;
        s->metrics_fn = cfg->metrics_fn;
        s->metrics = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, cfg->metrics_port, NULL,
                                      NULL, metrics_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ma,
                                      MHD_OPTION_CONNECTION_LIMIT, 16, MHD_OPTION_CONNECTION_TIMEOUT, 30,
                                      MHD_OPTION_END);
        if (!s->metrics) {
            vm_error_set(err, VM_ERR_INTERNAL, "cannot listen on %s:%u for metrics", cfg->metrics_address,
                         cfg->metrics_port);
            goto fail;
        }
    }
    return s;
fail:
    api_server_stop(s);
    return NULL;
}

uint16_t
api_server_metrics_port(const api_server *s)
{
    const union MHD_DaemonInfo *info = s->metrics ? MHD_get_daemon_info(s->metrics, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return info ? info->port : 0;
}

uint16_t
api_server_port(const api_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void
api_server_stop(api_server *s)
{
    if (!s)
        return;
    if (s->metrics)
        MHD_stop_daemon(s->metrics);
    if (s->mhd) {
        /* stop accepting, then let the requests in flight finish before the workers go */
        MHD_quiesce_daemon(s->mhd);
        for (int i = 0; i < 600 && atomic_load(&s->inflight) > 0; i++) {
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(s->mhd);
    }
    for (size_t i = 0; s->all && i < s->nctx; i++)
        vm_ctx_free(s->all[i]);
    free(s->all);
    free(s->pool);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->freed);
    free(s);
}
