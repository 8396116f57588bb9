/* A CloudWatch load generator in C: one signed AWS Query request (PutMetricData of 20 values, or
 * GetMetricStatistics of 24 hours at 1 minute: 1,440 points), sent again and again over keep-alive
 * connections by THREADS threads for SECONDS, the answers read but not parsed.  The same request as
 * bench/cloudwatch_client.py builds; in C because that Python client spent ~0.6 ms of CPU a request
 * itself, on a machine of 2 cores shared with the server it measured.  Every request is signed
 * (SigV4: its own time stamp, the hash of its body).
 *
 *   cw_load ENDPOINT ACCESS_KEY SECRET SECONDS THREADS put|get NOW
 *
 * Prints: requests/s, p50 ms, p95 ms, response bytes (as cloudwatch_client.py). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char host[256], akid[256], secret[256];
static int port;
static double seconds;
static char *body;
static size_t body_len;
static double stop_at;

static double
now_sec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void
hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* the request's head (signed now) into buf */
static int
head(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char amz[20], day[9];
    strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(day, amz, 8);
    day[8] = '\0';
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    unsigned char h[32];
    char payload[65], canon_hash[65], sig[65];
    SHA256((const unsigned char *)body, body_len, h);
    hex(h, 32, payload);
    char canonical[1024];
    snprintf(canonical, sizeof(canonical),
             "POST\n/\n\ncontent-type:%s\nhost:%s:%d\nx-amz-date:%s\n\ncontent-type;host;x-amz-date\n%s", ctype, host,
             port, amz, payload);
    SHA256((const unsigned char *)canonical, strlen(canonical), h);
    hex(h, 32, canon_hash);
    char scope[128], to_sign[512], key0[300];
    snprintf(scope, sizeof(scope), "%s/us-east-1/monitoring/aws4_request", day);
    snprintf(to_sign, sizeof(to_sign), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz, scope, canon_hash);
    unsigned char k[32];
    snprintf(key0, sizeof(key0), "AWS4%s", secret);
    hmac((const unsigned char *)key0, strlen(key0), day, k);
    hmac(k, 32, "us-east-1", k);
    hmac(k, 32, "monitoring", k);
    hmac(k, 32, "aws4_request", k);
    hmac(k, 32, to_sign, h);
    hex(h, 32, sig);
    return snprintf(buf, size,
                    "POST / HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\nAuthorization: "
                    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host;x-amz-date, Signature=%s\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    host, port, ctype, amz, akid, scope, sig, body_len);
}

static int
dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("cw_load: connect");
        exit(1);
    }
    return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* one exchange on *fd (dialled again when the server closed it); the body's length, or -1 */
static long
exchange(int *fd, char *buf, size_t size)
{
    char h[2048];
    int hl = head(h, sizeof(h));
    if (send_all(*fd, h, (size_t)hl) < 0 || send_all(*fd, body, body_len) < 0)
        return -1;
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = recv(*fd, buf + got, size - 1 - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    int status = atoi(buf + 9);
    long clen = -1;
    int close_after = 0;
    for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            clen = atol(l + 17);
        if (strncasecmp(l + 2, "Connection: close", 17) == 0)
            close_after = 1;
    }
    if (status != 200) {
        fprintf(stderr, "cw_load: HTTP %d: %.300s\n", status, end + 4);
        exit(1);
    }
    if (clen < 0) {
        fprintf(stderr, "cw_load: an answer without Content-Length\n");
        exit(1);
    }
    size_t have = got - (size_t)(end + 4 - buf);
    while (have < (size_t)clen) {
        ssize_t r = recv(*fd, buf, size, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    if (close_after) {
        close(*fd);
        *fd = dial();
    }
    return clen;
}

typedef struct worker {
    pthread_t t;
    double *lat;
    size_t n, cap;
    long size;
} worker;

static void *
run(void *opaque)
{
    worker *w = opaque;
    size_t bufsize = 1 << 20;
    char *buf = malloc(bufsize);
    int fd = dial();
    while (now_sec() < stop_at) {
        double t0 = now_sec();
        long n = exchange(&fd, buf, bufsize);
        if (n < 0) { /* the server closed a kept-alive connection: again on a new one */
            close(fd);
            fd = dial();
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof(double));
        }
        w->lat[w->n++] = now_sec() - t0;
        w->size = n;
    }
    close(fd);
    free(buf);
    return NULL;
}

static void
add(const char *fmt, ...)
{
    static size_t cap;
    va_list ap;
    char piece[512];
    va_start(ap, fmt);
    int n = vsnprintf(piece, sizeof(piece), fmt, ap);
    va_end(ap);
    if (body_len + (size_t)n + 1 > cap) {
        cap = (body_len + (size_t)n + 1) * 2;
        body = realloc(body, cap);
    }
    memcpy(body + body_len, piece, (size_t)n + 1);
    body_len += (size_t)n;
}

static void
iso(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H%%3A%M%%3A%SZ", &tm);
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: cw_load ENDPOINT ACCESS_KEY SECRET SECONDS THREADS put|get NOW\n");
        return 2;
    }
    if (sscanf(argv[1], "http://%255[^:]:%d", host, &port) != 2) {
        fprintf(stderr, "cw_load: ENDPOINT is http://ADDRESS:PORT\n");
        return 2;
    }
    snprintf(akid, sizeof(akid), "%s", argv[2]);
    snprintf(secret, sizeof(secret), "%s", argv[3]);
    seconds = atof(argv[4]);
    int threads = atoi(argv[5]);
    time_t now = atol(argv[7]) / 60 * 60;
    if (strcmp(argv[6], "put") == 0) {
        add("Action=PutMetricData&Namespace=Bench");
        for (int i = 1; i <= 20; i++)
            add("&MetricData.member.%d.MetricName=Put&MetricData.member.%d.Value=%d&MetricData.member.%d.Unit=Count"
                "&MetricData.member.%d.Dimensions.member.1.Name=Host&MetricData.member.%d.Dimensions.member.1.Value=h%d",
                i, i, i - 1, i, i, i, i);
    } else if (strcmp(argv[6], "get") == 0) {
        char s[32], e[32];
        iso(now - 86400, s);
        iso(now, e);
        add("Action=GetMetricStatistics&Namespace=Bench&MetricName=Day&Period=60&StartTime=%s&EndTime=%s"
            "&Statistics.member.1=Average&Statistics.member.2=Maximum",
            s, e);
    } else {
        fprintf(stderr, "cw_load: put or get\n");
        return 2;
    }
    add("&Version=2010-08-01");

    worker *w = calloc((size_t)threads, sizeof(worker));
    double t0 = now_sec();
    stop_at = t0 + seconds;
    for (int i = 0; i < threads; i++)
        pthread_create(&w[i].t, NULL, run, &w[i]);
    size_t total = 0;
    long size = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].t, NULL);
        total += w[i].n;
        size = w[i].size > size ? w[i].size : size;
    }
    double elapsed = now_sec() - t0;
    double *all = malloc((total + 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < w[i].n; j++)
            all[k++] = w[i].lat[j];
    if (total == 0) {
        fprintf(stderr, "cw_load: no request answered\n");
        return 1;
    }
    qsort(all, total, sizeof(double), cmp);
    printf("%.0f %.2f %.2f %ld\n", (double)total / elapsed, all[total / 2] * 1e3, all[(size_t)(total * 0.95)] * 1e3,
           size);
    return 0;
}
