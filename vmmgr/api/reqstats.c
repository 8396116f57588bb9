#include "reqstats.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define REQSTATS_MAX 1024

static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

typedef struct entry {
    char service[16], action[64];
    int status;
    unsigned long long count;
    /* durations: per (service, action), kept on the entry of status 0 */
    unsigned long long buckets[NBOUNDS];
    double sum;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry entries[REQSTATS_MAX];
static size_t nentries;

/* the entry of (service, action, status), made when new; NULL when the table is full */
static entry *
find(const char *service, const char *action, int status)
{
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].status == status && strcmp(entries[i].service, service) == 0 &&
            strcmp(entries[i].action, action) == 0)
            return &entries[i];
    if (nentries == REQSTATS_MAX)
        return NULL;
    entry *e = &entries[nentries++];
    snprintf(e->service, sizeof(e->service), "%s", service);
    snprintf(e->action, sizeof(e->action), "%s", action);
    e->status = status;
    return e;
}

void
api_reqstats_record(const char *service, const char *action, int status, double seconds)
{
    /* a label is an action name as sent: one that is not a plain name counts as "-" */
    bool plain = action && *action && strlen(action) < sizeof(entries[0].action);
    for (const char *c = action; plain && *c; c++)
        plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
    if (!plain)
        action = "-";
    pthread_mutex_lock(&lock);
    entry *e = find(service, action, status), *d = find(service, action, 0);
    if (e)
        e->count++;
    if (d) {
        for (size_t i = 0; i < NBOUNDS; i++)
            d->buckets[i] += seconds <= bounds[i];
        d->sum += seconds;
        d->count++;
    }
    pthread_mutex_unlock(&lock);
}

void
api_reqstats_write(FILE *out)
{
    pthread_mutex_lock(&lock);
    fputs("# HELP vmmgr_api_requests_total Requests the endpoint answered, by service, action and HTTP status.\n"
          "# TYPE vmmgr_api_requests_total counter\n",
          out);
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].status)
            fprintf(out, "vmmgr_api_requests_total{service=\"%s\",action=\"%s\",code=\"%d\"} %llu\n",
                    entries[i].service, entries[i].action, entries[i].status, entries[i].count);
    fputs("# HELP vmmgr_api_request_duration_seconds How long the endpoint took to answer, by service and action.\n"
          "# TYPE vmmgr_api_request_duration_seconds histogram\n",
          out);
    for (size_t i = 0; i < nentries; i++) {
        const entry *e = &entries[i];
        if (e->status)
            continue;
        for (size_t k = 0; k < NBOUNDS; k++)
            fprintf(out, "vmmgr_api_request_duration_seconds_bucket{service=\"%s\",action=\"%s\",le=\"%g\"} %llu\n",
                    e->service, e->action, bounds[k], e->buckets[k]);
        fprintf(out, "vmmgr_api_request_duration_seconds_bucket{service=\"%s\",action=\"%s\",le=\"+Inf\"} %llu\n",
                e->service, e->action, e->count);
        fprintf(out, "vmmgr_api_request_duration_seconds_sum{service=\"%s\",action=\"%s\"} %.6f\n", e->service,
                e->action, e->sum);
        fprintf(out, "vmmgr_api_request_duration_seconds_count{service=\"%s\",action=\"%s\"} %llu\n", e->service,
                e->action, e->count);
    }
    pthread_mutex_unlock(&lock);
}
