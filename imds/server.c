/* The metadata service's process: a listening socket per subnet bridge, libmicrohttpd for HTTP,
 * session tokens, and the supervision `vmmgr serve` does (imds_ensure). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../net/net.h"
#include "../net/net_priv.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/job.h"
#include "imds.h"

#define RESCAN_MS 2000
#define MAX_FD 4096

/* ---- tokens: "EXPIRES-INSTANCE-HMAC" */

static void
token_mac(const unsigned char key[32], const char *payload, char hex[65])
{
    unsigned char mac[32];
    unsigned int len = sizeof(mac);
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)payload, strlen(payload), mac, &len);
    for (unsigned i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
}

int
imds_token_make(const unsigned char key[32], const char *instance_id, time_t expires, char *buf, size_t len)
{
    char payload[96], hex[65];
    snprintf(payload, sizeof(payload), "%lld-%s", (long long)expires, instance_id);
    token_mac(key, payload, hex);
    return snprintf(buf, len, "%s-%s", payload, hex) < (int)len ? 0 : -1;
}

int
imds_token_check(const unsigned char key[32], const char *instance_id, const char *token, time_t now)
{
    const char *mac = strrchr(token, '-');
    if (!mac || strlen(mac + 1) != 64 || (size_t)(mac - token) >= 96)
        return 0;
    char payload[96], hex[65];
    snprintf(payload, sizeof(payload), "%.*s", (int)(mac - token), token);
    token_mac(key, payload, hex);
    if (CRYPTO_memcmp(hex, mac + 1, 64) != 0)
        return 0;
    char *end;
    long long exp = strtoll(payload, &end, 10);
    return *end == '-' && strcmp(end + 1, instance_id) == 0 && exp > (long long)now;
}

/* ---- the process */

typedef struct listener {
    char subnet[VM_ID_MAX];
    unsigned ifindex;
    int fd;
    bool seen;
} listener;

typedef struct service {
    vm_ctx *ctx; /* the handler thread's own connection to the store */
    unsigned char key[32];
    pthread_mutex_t mu;
    char (*fd_subnet)[VM_ID_MAX]; /* the subnet each accepted connection came from, by fd */
} service;

static void
imds_dir(vm_ctx *ctx, char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/imds%s%s", ctx->state_dir, file ? "/" : "", file ? file : "");
}

/* the store's secret for tokens: made once, kept (tokens outlive a restart, as on EC2) */
static int
load_key(vm_ctx *ctx, unsigned char key[32], vm_error *err)
{
    char path[4200];
    imds_dir(ctx, path, sizeof(path), "secret");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (RAND_bytes(key, 32) != 1)
            return vm_error_set(err, VM_ERR_INTERNAL, "no random bytes for the metadata service's key");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, key, 32) != 32) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot write %s", path);
        }
        fsync(fd);
        close(fd);
        return 0;
    }
    ssize_t n = read(fd, key, 32);
    close(fd);
    return n == 32 ? 0 : vm_error_set(err, VM_ERR_INTERNAL, "%s is not a key", path);
}

static enum MHD_Result
answer(struct MHD_Connection *c, int status, const void *body, size_t len, const char *type, int ttl)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type ? type : "text/plain");
    MHD_add_response_header(r, "Server", "EC2ws");
    if (ttl > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", ttl);
        MHD_add_response_header(r, "X-Aws-Ec2-Metadata-Token-Ttl-Seconds", v);
    }
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
answer_status(struct MHD_Connection *c, int status)
{
    const char *text = status == 400 ? "Bad Request" : status == 401 ? "Unauthorized" : status == 403 ? "Forbidden"
                     : status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed" : "Internal Server Error";
    return answer(c, status, text, strlen(text), "text/plain", 0);
}

/* who asks: the instance with the source address on the subnet the connection came in from */
static int
caller(service *s, struct MHD_Connection *c, char id[VM_ID_MAX], inst_md_opts *md)
{
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!fi || !ai || fi->connect_fd < 0 || fi->connect_fd >= MAX_FD || ai->client_addr->sa_family != AF_INET)
        return -1;
    char subnet[VM_ID_MAX], ip[INET_ADDRSTRLEN];
    pthread_mutex_lock(&s->mu);
    snprintf(subnet, sizeof(subnet), "%s", s->fd_subnet[fi->connect_fd]);
    pthread_mutex_unlock(&s->mu);
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ai->client_addr)->sin_addr, ip, sizeof(ip));
    return imds_instance_at(s->ctx, subnet, ip, id, md) == 1 ? 0 : -1;
}

/* "/latest/meta-data/x" → "meta-data/x"; NULL when the version is none EC2 has */
static const char *
below_version(const char *url)
{
    static const char *const versions[] = { "latest", "1.0", "2007-01-19", "2007-03-01", "2007-08-29",
                                            "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04",
                                            "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25", "2014-11-05",
                                            "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28",
                                            "2018-08-17", "2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03",
                                            "2021-03-23", "2021-07-15", "2022-09-24", NULL };
    if (*url == '/')
        url++;
    for (const char *const *v = versions; *v; v++) {
        size_t l = strlen(*v);
        if (strncmp(url, *v, l) == 0 && (url[l] == '\0' || url[l] == '/'))
            return url[l] ? url + l + 1 : url + l;
    }
    return NULL;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
       const char *upload, size_t *upload_size, void **state)
{
    service *s = cls;
    if (!*state) { /* the headers: answer once the (empty) body is in */
        *state = s;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, put = strcmp(method, "PUT") == 0;
    if (!get && !put)
        return answer_status(c, 405);
    char id[VM_ID_MAX];
    inst_md_opts md;
    if (caller(s, c, id, &md) < 0)
        return answer_status(c, 404);
    if (strcmp(md.endpoint, "enabled") != 0)
        return answer_status(c, 403);
    const char *rest = below_version(url);
    if (put) {
        if (!rest || strcmp(rest, "api/token") != 0)
            return answer_status(c, 405);
        /* a token is never handed through a proxy (EC2 refuses X-Forwarded-For here) */
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"))
            return answer_status(c, 403);
        const char *ttl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-aws-ec2-metadata-token-ttl-seconds");
        char *end = NULL;
        long secs = ttl ? strtol(ttl, &end, 10) : 0;
        if (!ttl || !*ttl || *end || secs < 1 || secs > IMDS_TOKEN_TTL_MAX)
            return answer_status(c, 400);
        char token[200];
        if (imds_token_make(s->key, id, time(NULL) + secs, token, sizeof(token)) < 0)
            return answer_status(c, 500);
        /* the hop limit: how far the answer travels (1: only the instance itself) */
        const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int hops = md.hop_limit > 0 ? md.hop_limit : 1;
        if (fi)
            setsockopt(fi->connect_fd, IPPROTO_IP, IP_TTL, &hops, sizeof(hops));
        return answer(c, 200, token, strlen(token), "text/plain", (int)secs);
    }
    const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-aws-ec2-metadata-token");
    if (token ? !imds_token_check(s->key, id, token, time(NULL)) : strcmp(md.tokens, "required") == 0)
        return answer_status(c, 401);
    if (strcmp(url, "/") == 0) {
        static const char list[] = "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n"
                                   "2008-09-01\n2009-04-04\n2011-01-01\n2011-05-01\n2012-01-12\n2014-02-25\n"
                                   "2014-11-05\n2015-10-20\n2016-04-19\n2016-06-30\n2016-09-02\n2018-03-28\n"
                                   "2018-08-17\n2018-09-24\n2019-10-01\n2020-10-27\n2021-01-03\n2021-03-23\n"
                                   "2021-07-15\n2022-09-24\nlatest";
        return answer(c, 200, list, strlen(list), "text/plain", 0);
    }
    if (!rest)
        return answer_status(c, 404);
    imds_reply r;
    imds_get(s->ctx, id, rest, &r);
    enum MHD_Result rc = answer(c, r.status, r.body ? r.body : "", r.len, r.type, 0);
    free(r.body);
    return rc;
}

static void
closed(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
    service *s = cls;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fi && fi->connect_fd >= 0 && fi->connect_fd < MAX_FD) {
        pthread_mutex_lock(&s->mu);
        s->fd_subnet[fi->connect_fd][0] = '\0';
        pthread_mutex_unlock(&s->mu);
    }
}

static int
listen_on(const char *br)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
    inet_pton(AF_INET, IMDS_ADDR, &sa.sin_addr);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, br, (socklen_t)strlen(br) + 1) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* libvirtd's namespace, where this process lives once started: a routed VPC's listeners are made
 * in its router's namespace, then the thread comes back here */
static int home_netns = -1;

/* The thread into the namespace at path; back home. */
static int
ns_enter(const char *path)
{
    int nfd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = nfd < 0 || home_netns < 0 ? -1 : setns(nfd, CLONE_NEWNET);
    if (nfd >= 0)
        close(nfd);
    return rc;
}

static void
ns_leave(void)
{
    /* a thread that cannot come back must not go on serving from the wrong namespace */
    if (setns(home_netns, CLONE_NEWNET) < 0)
        abort();
}

/* A listener on ifname, in the thread's namespace.  The address lives on the namespace's loopback,
 * never on a bridge: libvirt's dnsmasq binds every address of its bridge, and two of them would
 * fight over it (the kernel here has no dummy interfaces).  The guests' route to it is their
 * gateway; the socket takes only what came in on ifname.  An address an older vmmgr put there goes. */
static int
listen_here(const char *ifname)
{
    char addr[32];
    snprintf(addr, sizeof(addr), "%s/32", IMDS_ADDR);
    const char *add[] = { "ip", "addr", "replace", addr, "dev", "lo", NULL };
    const char *old[] = { "ip", "addr", "del", addr, "dev", ifname, NULL };
    vm_cmd_limits lim = {.timeout_sec = 10};
    vm_error ignore = {0};
    vm_cmd_run(old, &lim, NULL, &ignore);
    if (vm_cmd_run(add, &lim, NULL, &ignore) < 0)
        return -1;
    return listen_on(ifname);
}

/* Every subnet of the store whose bridge exists has its listener (a new bridge, a bridge made
 * again after a reboot); listeners of gone subnets close.  A routed VPC's subnet (its block may
 * be another VPC's too) has its listener in the VPC's router, on the subnet's port. */
static void
rescan(vm_ctx *ctx, listener **ls, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        (*ls)[i].seen = false;
    _cleanup_free_ net_subnet *subs = NULL;
    _cleanup_free_ net_vpc *vpcs = NULL;
    size_t nsubs = 0, nvpcs = 0;
    if (net_subnet_list(ctx, &subs, &nsubs, &(vm_error){0}) < 0 || net_vpc_list(ctx, &vpcs, &nvpcs, &(vm_error){0}) < 0)
        return;
    for (size_t k = 0; k < nsubs; k++) {
        const char *sub = subs[k].id;
        char ifname[16], br_end[16], netns[64], path[96] = "";
        bool routed = false;
        for (size_t v = 0; v < nvpcs; v++)
            if (strcmp(vpcs[v].id, subs[k].vpc_id) == 0)
                routed = vpcs[v].routed;
        if (routed) {
            net_router_port_names(sub, br_end, ifname);
            net_router_netns(subs[k].vpc_id, netns);
            snprintf(path, sizeof(path), "/run/netns/%s", netns);
        } else
            net_bridge_name(sub, ifname);
        listener *l = NULL;
        for (size_t i = 0; i < *n; i++)
            if (strcmp((*ls)[i].subnet, sub) == 0)
                l = &(*ls)[i];
        if (routed && ns_enter(path) < 0)
            continue;
        unsigned idx = if_nametoindex(ifname);
        bool same = idx && l && l->ifindex == idx;
        int fd = idx && !same ? listen_here(ifname) : -1;
        if (routed)
            ns_leave();
        if (same)
            l->seen = true;
        if (fd < 0)
            continue;
        if (!l) {
            listener *v = realloc(*ls, (*n + 1) * sizeof(*v));
            if (!v) {
                close(fd);
                continue;
            }
            *ls = v;
            l = &v[(*n)++];
            snprintf(l->subnet, sizeof(l->subnet), "%s", sub);
        } else
            close(l->fd);
        l->fd = fd;
        l->ifindex = idx;
        l->seen = true;
    }
    for (size_t i = 0; i < *n;) {
        if ((*ls)[i].seen) {
            i++;
            continue;
        }
        close((*ls)[i].fd);
        (*ls)[i] = (*ls)[--*n];
    }
}

static int
enter_bridges_netns(vm_ctx *ctx, vm_error *err)
{
    long pid = net_libvirtd_pid(ctx);
    if (!pid)
        return vm_error_set(err, VM_ERR_INTERNAL, "the metadata service needs a local libvirtd");
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot enter the network namespace of libvirtd (%s)",
                                  path);
    }
    close(fd);
    return 0;
}

int
imds_serve(vm_ctx *ctx, vm_error *err)
{
    char dir[4200], lockp[4200], pidp[4200], dbp[4200];
    imds_dir(ctx, dir, sizeof(dir), NULL);
    imds_dir(ctx, lockp, sizeof(lockp), "lock");
    imds_dir(ctx, pidp, sizeof(pidp), "pid");
    snprintf(dbp, sizeof(dbp), "%s/state.db", ctx->state_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot make %s", dir);
    /* one service per store: the lock is held for the process's life */
    int lk = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lk < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot open %s", lockp);
    if (flock(lk, LOCK_EX | LOCK_NB) < 0)
        return 0; /* another one runs */
    service s = { .mu = PTHREAD_MUTEX_INITIALIZER };
    if (load_key(ctx, s.key, err) < 0 || enter_bridges_netns(ctx, err) < 0)
        return -1;
    home_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!(s.fd_subnet = calloc(MAX_FD, sizeof(*s.fd_subnet))))
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (!(s.ctx = vm_ctx_new(ctx->state_dir, ctx->uri, err)))
        return -1;
    FILE *pf = fopen(pidp, "we");
    if (pf) {
        fprintf(pf, "%ld\n", (long)getpid());
        fclose(pf);
    }
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET |
                                                MHD_USE_ITC | MHD_USE_ERROR_LOG,
                                            0, NULL, NULL, handle, &s, MHD_OPTION_CONNECTION_LIMIT, 512,
                                            MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_NOTIFY_CONNECTION,
                                            closed, &s, MHD_OPTION_END);
    if (!d)
        return vm_error_set(err, VM_ERR_INTERNAL, "the metadata service cannot start its HTTP server");
    listener *ls = NULL;
    size_t n = 0;
    struct timespec last = { 0 };
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= RESCAN_MS) {
            /* the store is gone (its state dir removed): nothing to serve */
            if (access(dbp, F_OK) < 0)
                break;
            rescan(ctx, &ls, &n);
            last = now;
        }
        struct pollfd pf[64];
        size_t np = n < 64 ? n : 64;
        for (size_t i = 0; i < np; i++)
            pf[i] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
        int k = poll(pf, np, RESCAN_MS / 4);
        for (size_t i = 0; k > 0 && i < np; i++) {
            if (!(pf[i].revents & POLLIN))
                continue;
            struct sockaddr_storage sa;
            socklen_t sl = sizeof(sa);
            int c = accept4(ls[i].fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            if (c >= MAX_FD) {
                close(c);
                continue;
            }
            pthread_mutex_lock(&s.mu);
            snprintf(s.fd_subnet[c], VM_ID_MAX, "%s", ls[i].subnet);
            pthread_mutex_unlock(&s.mu);
            if (MHD_add_connection(d, c, (struct sockaddr *)&sa, sl) != MHD_YES)
                close(c); /* MHD closes it on failure in newer versions; harmless either way */
        }
    }
    MHD_stop_daemon(d);
    for (size_t i = 0; i < n; i++)
        close(ls[i].fd);
    free(ls);
    vm_ctx_free(s.ctx);
    free(s.fd_subnet);
    unlink(pidp);
    return 0;
}

/* ---- supervision (vmmgr serve) */

long
imds_pid(vm_ctx *ctx)
{
    char lockp[4200], pidp[4200];
    imds_dir(ctx, lockp, sizeof(lockp), "lock");
    imds_dir(ctx, pidp, sizeof(pidp), "pid");
    int lk = open(lockp, O_RDONLY | O_CLOEXEC);
    if (lk < 0)
        return 0;
    /* the lock is free: nobody serves (a pid file alone may name a reused pid) */
    if (flock(lk, LOCK_SH | LOCK_NB) == 0) {
        close(lk);
        return 0;
    }
    close(lk);
    return vm_pid_file_read(pidp);
}

void
imds_ensure(vm_ctx *ctx)
{
    static time_t last_try;
    time_t now = time(NULL);
    if (now - last_try < 5 || !net_libvirtd_pid(ctx) || imds_pid(ctx))
        return;
    last_try = now;
    vm_error err = { 0 };
    if (vm_job_spawn(ctx, "imds", "-", NULL, 0, &err) < 0)
        fprintf(stderr, "vmmgr serve: metadata service: %s\n", err.msg);
}
